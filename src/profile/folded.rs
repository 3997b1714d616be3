//! Folded stacks: the plain-text format every flamegraph tool reads, written and read back.
//!
//! One line per distinct stack, frames from the root to the leaf joined by
//! `;`, then a space and the number of samples. Writing and parsing are
//! exact inverses, so a saved `.folded` file can be redrawn, compared or fed
//! to other tools (inferno, Brendan Gregg's `flamegraph.pl`, speedscope).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use thiserror::Error;

/// Sample counts per stack, each stack root first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FoldedStacks {
    counts: BTreeMap<String, u64>,
}

/// A line of a folded-stack file that is not `frame;frame;... COUNT`.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("line {line}: expected `frame;frame;... COUNT`, found `{text}`")]
pub struct FoldedParseError {
    pub line: usize,
    pub text: String,
}

impl FoldedStacks {
    /// Adds `samples` to the stack made of `frames` (root first).
    ///
    /// Characters that would break the format (`;` and line breaks) are
    /// replaced in frame names; an empty stack is ignored.
    pub fn add<S: AsRef<str>>(&mut self, frames: &[S], samples: u64) {
        if frames.is_empty() || samples == 0 {
            return;
        }
        let mut key = String::new();
        for (index, frame) in frames.iter().enumerate() {
            if index > 0 {
                key.push(';');
            }
            key.extend(frame.as_ref().chars().map(|c| match c {
                ';' => ':',
                '\n' | '\r' => ' ',
                c => c,
            }));
        }
        *self.counts.entry(key).or_default() += samples;
    }

    /// Total number of samples.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Whether no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Each stack (frames root first) with its sample count.
    pub fn stacks(&self) -> impl Iterator<Item = (impl Iterator<Item = &str>, u64)> {
        self.counts
            .iter()
            .map(|(stack, &count)| (stack.split(';'), count))
    }

    /// Adds every stack of `other` to these.
    pub fn add_all(&mut self, other: &FoldedStacks) {
        for (stack, count) in &other.counts {
            *self.counts.entry(stack.clone()).or_default() += count;
        }
    }

    /// The same samples with every frame renamed by `rename`; stacks that become equal add up.
    pub fn renamed(&self, rename: impl Fn(&str) -> String) -> FoldedStacks {
        let mut renamed = FoldedStacks::default();
        for (frames, samples) in self.stacks() {
            let frames: Vec<String> = frames.map(&rename).collect();
            renamed.add(&frames, samples);
        }
        renamed
    }

    /// The folded text, one `stack count` line each, sorted by stack.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        for (stack, count) in &self.counts {
            let _ = writeln!(text, "{stack} {count}");
        }
        text
    }

    /// Reads folded text back; blank lines are skipped and repeated stacks add up.
    pub fn parse(text: &str) -> Result<FoldedStacks, FoldedParseError> {
        let mut stacks = FoldedStacks::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim_end();
            if line.trim().is_empty() {
                continue;
            }
            let malformed = || FoldedParseError {
                line: index + 1,
                text: line.to_string(),
            };
            let (stack, count) = line.rsplit_once(' ').ok_or_else(malformed)?;
            let count: u64 = count.parse().map_err(|_| malformed())?;
            if stack.is_empty() {
                return Err(malformed());
            }
            *stacks.counts.entry(stack.to_string()).or_default() += count;
        }
        Ok(stacks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_stacks_round_trip_through_text() {
        let mut stacks = FoldedStacks::default();
        stacks.add(&["main", "solve", "hankel_functions"], 7);
        stacks.add(&["main", "solve"], 2);
        stacks.add(&["scatter-worker", "<Vec<T> as Drop>::drop", "free"], 1);
        stacks.add(&["main", "solve", "hankel_functions"], 3);
        let text = stacks.to_text();
        assert_eq!(text.lines().next(), Some("main;solve 2"), "sorted by stack");
        let parsed = FoldedStacks::parse(&text).unwrap();
        assert_eq!(parsed, stacks);
        assert_eq!(parsed.total(), 13);
        assert_eq!(parsed.to_text(), text);
    }

    #[test]
    fn separators_inside_frame_names_are_replaced() {
        let mut stacks = FoldedStacks::default();
        stacks.add(&["a;b", "c\nd"], 1);
        assert_eq!(stacks.to_text(), "a:b;c d 1\n");
    }

    #[test]
    fn malformed_lines_are_reported_with_their_number() {
        let error = FoldedStacks::parse("main;f 3\n\nmain;g three\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(FoldedStacks::parse(" 4").is_err());
    }
}
