//! docs/decision-tree.md, generated from the tree's data so the documentation cannot drift from the code.

use std::fmt::Write;

use super::named::{FactId, INDEPENDENT_RUN_FLOOR_SECONDS, OVERHEAD_SHARE};
use super::plan::options;
use super::reading::{Unit, duration};
use super::render::cell;
use super::tree::{GainRule, Tree, WORTHWHILE_GAIN};

/// The Markdown documentation of `tree`.
pub fn markdown(tree: &Tree) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# The decision tree\n\n\
         <!-- Generated from src/advise/tree.rs by `HPC_ADVISOR_BLESS=1 cargo test --test advise`; do not edit by hand. -->\n\n\
         `hpc-advisor advise` walks this tree over measured facts (docs/facts.md). \
         The root nodes are visited in the order below; a branch may lead to a follow-up node. \
         In each node the branches are tried in order and the first whose condition holds gives the answer. \
         A condition over an unknown fact makes the node's answer \"unknown\" with the fact's reason, \
         and the walk goes on with the next root: the advisor never guesses. \
         Variants that failed (or skipped) the agreement check are left out of every figure below.\n\n\
         The sources are the seed documents of the project, cited by file name and paraphrased.\n"
    );
    let _ = writeln!(out, "## The crossover rule\n");
    let _ = writeln!(
        out,
        "A parallel mechanism pays for a work item when its measured per-item overhead is at most \
         {share} of the item's time, so each crossover is the overhead divided by {share}: the rayon \
         task (or thread spawn) overhead for threads, the process start-up for processes, `mpirun -n 1` \
         for an MPI job. Independent runs of a whole program also need items of at least {floor}, \
         seed 001's \"a minute or longer\", because a real program's own start-up (interpreter, imports, \
         input) is not measured here.\n",
        share = Unit::Fraction.format(OVERHEAD_SHARE),
        floor = duration(INDEPENDENT_RUN_FLOOR_SECONDS),
    );
    let _ = writeln!(out, "## Roots, in order\n");
    for root in tree.roots {
        let _ = writeln!(out, "- [`{root}`](#{})", anchor(root));
    }
    for node in tree.nodes {
        let _ = writeln!(
            out,
            "\n## `{}`\n\n**{}** {}\n",
            node.id, node.title, node.question
        );
        let _ = writeln!(out, "Reads:\n");
        for fact in node.reads {
            let _ = writeln!(out, "- `{}`: {}", fact.name(), fact.about());
        }
        let _ = writeln!(out, "\n| branch | when | why | answer | actions | next |");
        let _ = writeln!(out, "|---|---|---|---|---|---|");
        for branch in node.branches {
            let actions: Vec<String> = branch
                .actions
                .iter()
                .map(|a| format!("`{}`", a.id))
                .collect();
            let _ = writeln!(
                out,
                "| `{}` | `{}` | {} | {} | {} | {} |",
                branch.id,
                branch.when,
                branch.why,
                cell(branch.answer),
                actions.join(", "),
                branch.then.map(|n| format!("`{n}`")).unwrap_or_default()
            );
        }
        let _ = writeln!(out, "\nSources:\n");
        for source in node.sources {
            let _ = writeln!(out, "- {}: {}", source.seed, source.says);
        }
    }
    let _ = writeln!(out, "\n## Options and the plan\n");
    let _ = writeln!(
        out,
        "The plan takes the options the answers called for in the order of their levels \
         (measurement, algorithm, I/O, vector, explicit SIMD, cores, GPU, nodes), and within a \
         level the larger measured gain first. Each step's gain is its own: the ratio of two \
         measurements of the same run that differ by that step alone, so the gains multiply to \
         the plan's total. A measured step gaining less than {} or whose interval reaches no \
         gain at all is ruled out with that reason; so is every option no answer called for, \
         with the answer that rules it out.\n",
        Unit::Times.format(WORTHWHILE_GAIN)
    );
    let _ = writeln!(
        out,
        "Marginal against total, in one measured run (AMD EPYC Zen 4, 2 usable cores, \
         AVX-512, the default problem, `hpc-advisor analyse`): the ladder put `threads+simd` at \
         266.5x over `naive`. That is the total of three steps, not the gain of threads. The \
         plan split it into `fused` over `naive` 9.89x (compile and vectorise), `simd` over \
         `fused` 13.8x (explicit SIMD) and `threads+simd` over `simd` 1.95x on 2 cores \
         (threads), whose product, 267x, is the plan's total. A user who has already \
         vectorised gains 1.95x from threads on that machine, and `processes`, measured \
         against threads of the same kernel, gained nothing more and was ruled out \
         (`docs/reading-a-report.md`).\n"
    );
    for action in options(tree) {
        let gain = match &action.gain {
            GainRule::Marginal(rule) => format!("measured as {}", rule.describe()),
            GainRule::NotMeasurable(because) => format!("not measurable: {because}"),
        };
        let _ = writeln!(out, "### `{}`: {}\n", action.id, action.title);
        let _ = writeln!(out, "- level: {:?}", action.level);
        let _ = writeln!(out, "- gain: {gain}");
        let _ = writeln!(out, "- cost: {}", action.cost);
        let _ = writeln!(out, "- Rust/C: {}", action.rust_c);
        let _ = writeln!(out, "- Python: {}\n", action.python);
    }
    let _ = writeln!(out, "## Named facts\n");
    let _ = writeln!(out, "| name | meaning |");
    let _ = writeln!(out, "|---|---|");
    for fact in FactId::ALL {
        let _ = writeln!(out, "| `{}` | {} |", fact.name(), fact.about());
    }
    out
}

/// GitHub's heading anchor for a node id heading such as "`cores.usable`".
fn anchor(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect()
}
