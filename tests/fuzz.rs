//! Every parser a user feeds, on arbitrary input: an error or a valid result, never a panic or a hang.
//!
//! Property tests (proptest) over the contour expression language, points files, the
//! problem options, `--sizes` lists, facts and report JSON (arbitrary documents, and the
//! real fixture report cut and corrupted at random). Each test prints how many cases ran.

use hpc_advisor::advise::Facts;
use hpc_advisor::cli::ProblemArgs;
use hpc_advisor::profile::program::parse_sizes;
use hpc_advisor::report::Report;
use hpc_kernels::scatter::{Contour, Problem};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Runs `test` on `cases` values of `strategy` and says how many ran.
fn fuzz<S: Strategy>(name: &str, cases: u32, strategy: S, test: impl Fn(S::Value)) {
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |value| {
            test(value);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    eprintln!("fuzz {name}: {cases} cases, none panicked");
}

/// Text made of the characters an expression is written with, and some that it is not.
fn expression() -> impl Strategy<Value = String> {
    prop_oneof![
        "[t0-9.+*/^(), -]{0,40}",
        "(sin|cos|exp|sqrt|ln|abs|tan|pi|t|2|0\\.5|[+*/^()-]){0,30}",
        any::<String>(),
    ]
}

#[test]
fn contour_expressions_build_a_problem_or_say_why_not() {
    fuzz(
        "contour expressions",
        1500,
        (expression(), expression()),
        |(x, y)| {
            let built = Problem::builder()
                .cells(8, 8)
                .segments(12)
                .contour(Contour::Parametric { x, y })
                .build();
            if let Ok(problem) = built {
                assert_eq!(problem.contour_points().len(), 13);
                assert!(
                    problem
                        .contour_points()
                        .iter()
                        .flatten()
                        .all(|v| v.is_finite())
                );
            }
        },
    );
}

#[test]
fn points_files_parse_or_say_why_not() {
    fuzz(
        "points files",
        2000,
        prop_oneof![
            "([ \\t]*-?[0-9]{0,3}(\\.[0-9]{0,3})?([eE]-?[0-9])?[ ,\\t]+-?[0-9]{0,3}(\\.[0-9]{0,2})?[ \\t]*(#.*)?\\n){0,12}",
            any::<String>(),
        ],
        |text| {
            if let Ok(contour) = Contour::parse_points(&text) {
                // A parsed polygon builds a problem or is refused with a reason.
                let _ = Problem::builder().cells(6, 6).contour(contour).build();
            }
        },
    );
}

#[test]
fn problem_options_give_a_problem_or_an_error() {
    fuzz(
        "problem options",
        1500,
        (
            0usize..3000,
            0usize..3000,
            0usize..400,
            prop_oneof![any::<f64>(), 0.01f64..10.0],
            prop_oneof![
                Just("default".to_string()),
                Just("circle".to_string()),
                Just("file:/nonexistent/points".to_string()),
                expression().prop_map(|e| format!("{e}; sin(2*pi*t)")),
                any::<String>(),
            ],
        ),
        |(nx, ny, nc, wavelength, contour)| {
            let args = ProblemArgs {
                nx,
                ny,
                nc,
                wavelength,
                contour,
                force: false,
            };
            if let Ok(problem) = args.to_problem() {
                assert!(problem.wavelength() > 0.0 && problem.wavelength().is_finite());
            }
        },
    );
}

#[test]
fn size_lists_parse_or_say_why_not() {
    fuzz(
        "--sizes lists",
        3000,
        prop_oneof!["[0-9eE.,+ -]{0,30}", any::<String>()],
        |text| {
            if let Ok(sizes) = parse_sizes(&text) {
                assert!(sizes.len() >= 2, "{text:?} gave {sizes:?}");
                assert!(sizes.iter().all(|(_, v)| v.is_finite() && *v > 0.0));
            }
        },
    );
}

/// Arbitrary JSON documents, nested up to a few levels.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        (0u32..5).prop_map(serde_json::Value::from),
        "[a-z_]{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("schema_version".to_string()),
                    Just("machine".to_string()),
                    Just("known".to_string()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..6
            )
            .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

#[test]
fn arbitrary_json_is_refused_as_facts_and_as_a_report_without_a_panic() {
    fuzz("facts and report JSON", 2000, json(), |value| {
        let text = value.to_string();
        let _ = Facts::from_json(&text);
        let _ = Report::from_json(&text);
        let _ = Report::facts_from_json(&text);
    });
}

#[test]
fn deeply_nested_json_is_refused_not_overflowing_the_stack() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Report::from_json(&deep).is_err());
    assert!(Facts::from_json(&deep).is_err());
    let deep_object = format!(
        "{{\"schema_version\": 3, \"machine\": {}{}}}",
        "{\"known\": ".repeat(50_000),
        "}".repeat(50_000)
    );
    assert!(Report::from_json(&deep_object).is_err());
}

#[test]
fn the_real_report_cut_or_corrupted_anywhere_is_refused_or_read() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/report/report.json"
    ))
    .unwrap();
    let length = text.len();
    fuzz(
        "cut and corrupted reports",
        300,
        (0..length, 0..length, any::<u8>()),
        |(cut, at, byte)| {
            let _ = Report::from_json(&text[..text.floor_char_boundary(cut)]);
            let mut bytes = text.clone().into_bytes();
            bytes[at] = byte;
            if let Ok(corrupted) = String::from_utf8(bytes) {
                let _ = Report::from_json(&corrupted);
                let _ = Report::facts_from_json(&corrupted);
            }
        },
    );
}
