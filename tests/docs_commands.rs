//! `docs/commands.md` cites, for every command of the manuals, the tests that
//! prove it. This keeps the table honest: every cited test exists, and every
//! row cites at least one (or says plainly why it is not used).

#![allow(clippy::unwrap_used, missing_docs)] // a failed unwrap is a failed test

use std::path::Path;

/// `crates/x/tests/y.rs::a, ::b_*` in `text`: (file, names).
fn citations(text: &str) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    for group in text.split([';', '|']) {
        let Some(start) = group.find("crates/").or_else(|| group.find("tests/")) else {
            continue;
        };
        let group = &group[start..];
        let Some((file, rest)) = group.split_once("::") else {
            continue;
        };
        let names = std::iter::once(rest)
            .chain(rest.split("::").skip(1))
            .map(|n| {
                n.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '*')
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty())
            .collect();
        found.push((file.trim().to_owned(), names));
    }
    found
}

/// Whether `name` is cited as a range (`smtpsend_61..68`).
fn is_range(cell: &str, name: &str) -> bool {
    cell.contains(&format!("{name}.."))
}

#[test]
fn every_cited_test_exists_and_every_row_cites_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("docs/commands.md")).unwrap();
    let mut checked = 0;
    for row in table
        .lines()
        .filter(|l| l.starts_with("| AT") || l.starts_with("| URC"))
    {
        let cells: Vec<&str> = row.split('|').collect();
        let proven_by = cells.get(4).copied().unwrap_or("");
        let cited = citations(proven_by);
        assert!(
            !cited.is_empty() || row.contains("not used") || row.contains("not sent"),
            "a row proves nothing: {row}"
        );
        for (file, names) in cited {
            let source = std::fs::read_to_string(root.join(&file))
                .unwrap_or_else(|e| panic!("{file} (cited in docs/commands.md): {e}"));
            for name in names {
                // `name*` and `name_61..68` cite a family of tests by its
                // start; any other citation is a whole test name.
                let (stem, whole) = match name.strip_suffix('*') {
                    Some(stem) => (stem, false),
                    None => (name.as_str(), !is_range(proven_by, &name)),
                };
                let exists = source.lines().any(|l| {
                    let l = l.trim_start();
                    // A test function, or an entry of a macro that makes one
                    // (`code_535_auth: -535 => ...`).
                    let rest = l
                        .strip_prefix("async fn ")
                        .or_else(|| l.strip_prefix("fn "))
                        .unwrap_or(l)
                        .strip_prefix(stem);
                    rest.is_some_and(|r| {
                        !whole || r.starts_with('(') || r.starts_with(':') || r.starts_with('<')
                    })
                });
                assert!(
                    exists,
                    "docs/commands.md cites {file}::{name}, which does not exist"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} citations found");
}
