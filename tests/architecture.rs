//! The module rules of docs/architecture.md, checked on the source: no import cycle
//! between top-level modules of `src/`, the API and the pages know nothing of each
//! other, and only the unit of work appends to domain streams.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            // Unit tests may reach anywhere.
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let rel = path
                .strip_prefix("src")
                .unwrap()
                .to_string_lossy()
                .to_string();
            out.push((rel, text));
        }
    }
}

fn top(rel: &str) -> String {
    rel.split('/')
        .next()
        .unwrap()
        .trim_end_matches(".rs")
        .to_string()
}

/// `crate::NAME` references, including `use crate::{a::.., b::..}`.
fn references(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for part in group.split(',') {
                if let Some((name, _)) = part.trim().split_once("::") {
                    out.insert(name.to_string());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(Path::new("src"), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (rel, text) in &files {
        let from = top(rel);
        if from == "lib" || from == "main" {
            continue;
        }
        for to in references(text) {
            if to != from && !to.is_empty() {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    graph
}

fn reaches(graph: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(m) = stack.pop() {
        for next in graph.get(&m).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = graph();
    let cycles: Vec<String> = graph
        .iter()
        .flat_map(|(a, tos)| tos.iter().map(move |b| (a, b)))
        .filter(|(a, b)| reaches(&graph, b, a))
        .map(|(a, b)| format!("{a} -> {b}"))
        .collect();
    assert!(cycles.is_empty(), "import cycles: {cycles:?}");
}

#[test]
fn the_api_and_the_pages_do_not_import_each_other() {
    let graph = graph();
    assert!(!graph["http"].contains("web"), "http imports web");
    assert!(!graph["web"].contains("http"), "web imports http");
    assert!(
        !graph["engine"].contains("admin"),
        "the engine imports admin"
    );
}

#[test]
fn only_the_unit_of_work_appends_to_domain_streams() {
    let mut files = Vec::new();
    sources(Path::new("src"), &mut files);
    for (rel, text) in files {
        // The store implements appends; benchmarks write synthetic logs directly.
        if rel.starts_with("store/") || rel.starts_with("bench/") || rel == "unit_of_work.rs" {
            continue;
        }
        assert!(
            !(text.contains(".append(") && text.contains("domain_stream")),
            "{rel} appends to a domain stream outside the unit of work"
        );
    }
}
