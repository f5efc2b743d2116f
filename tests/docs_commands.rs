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

/// The proof kinds a transcript's `#! proof:` header may give.
const KINDS: [&str; 3] = ["manual-verbatim", "manual-template", "project"];

/// `::name (kind...)` citations of `cell` whose parenthesis starts with a proof kind.
fn labelled(cell: &str) -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    for piece in cell.split("::").skip(1) {
        let name: String = piece
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let rest = piece[name.len()..].trim_start();
        let Some(paren) = rest.strip_prefix('(') else {
            continue;
        };
        if let Some(kind) = KINDS.iter().find(|k| {
            paren
                .strip_prefix(**k)
                .is_some_and(|r| r.starts_with([')', ':', ',', ';']))
        }) {
            out.push((name, *kind));
        }
    }
    out
}

/// The transcript files (`"x.at"`) the test `name` of `source` names in its body.
fn transcripts_of(source: &str, name: &str) -> Vec<String> {
    let start = [format!("async fn {name}("), format!("fn {name}(")]
        .iter()
        .find_map(|sig| source.find(sig.as_str()));
    let Some(start) = start else {
        return Vec::new();
    };
    let body = &source[start..];
    let end = body[1..]
        .find("\n#[")
        .or_else(|| body[1..].find("\nfn "))
        .map_or(body.len(), |e| e + 1);
    body[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| s.ends_with(".at") && !s.contains(['{', '/', ' ']))
        .map(str::to_owned)
        .collect()
}

/// The `#! proof:` of every transcript under `tests/transcripts/`, by file name.
fn proofs(root: &Path) -> std::collections::HashMap<String, Vec<String>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    let mut dirs = vec![root.join("tests/transcripts")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "at") {
                let text = std::fs::read_to_string(&path).unwrap();
                let proof = text
                    .lines()
                    .find_map(|l| l.strip_prefix("#! proof:"))
                    .map_or(String::new(), |p| p.trim().to_owned());
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                out.entry(file).or_default().push(proof);
            }
        }
    }
    out
}

/// A row's "(manual-verbatim)", "(manual-template)" or "(project)" after a
/// cited test says what the transcript it replays is: the test's transcript
/// must carry that `#! proof:` header (a test that names no transcript file
/// itself, building its text in code, is not checked).
#[test]
fn the_proof_kind_a_row_names_is_the_transcripts_own() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = std::fs::read_to_string(root.join("docs/commands.md")).unwrap();
    let proofs = proofs(root);
    let mut checked = 0;
    for row in table
        .lines()
        .filter(|l| l.starts_with("| AT") || l.starts_with("| URC"))
    {
        let cells: Vec<&str> = row.split('|').collect();
        let proven_by = cells.get(4).copied().unwrap_or("");
        for group in proven_by.split(';') {
            let Some((file, _)) = citations(group).into_iter().next() else {
                continue;
            };
            let source = std::fs::read_to_string(root.join(&file)).unwrap();
            for (name, kind) in labelled(group) {
                for transcript in transcripts_of(&source, &name) {
                    let Some(found) = proofs.get(&transcript) else {
                        panic!(
                            "{file}::{name} replays {transcript}, which is not under tests/transcripts"
                        );
                    };
                    assert!(
                        found.iter().any(|p| p == kind),
                        "docs/commands.md calls {file}::{name} {kind}, but {transcript} says \
                         `#! proof: {}`",
                        found.join(" / ")
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} proof kinds checked");
}
