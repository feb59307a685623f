//! Tidy tests: the rules of the house, checked by reading the source (as
//! rust-analyzer's tidy tests do). `cargo test` fails when one is broken:
//!
//! * **Layering.** The core's domains are ranked (`base` at the bottom,
//!   then `traffic`, `links`, `attribution`, `ingest`, `roster`,
//!   `reporting`, `outbound`, and `config` on top); a module may import its
//!   own domain and the domains below it, never one above. Nothing in the
//!   core imports `edge`. In the shell, `edge/*.rs` is its base (it imports
//!   no shell domain), `edge/entry/` is its top, and `edge/{domain}/`
//!   imports the shell's base and the shell domains below it (and any of
//!   the core).
//! * **No cycles** between files, except a parent module's use of its own
//!   children (a folder's `mod.rs` re-exporting them).
//! * **The core touches no JS, clock or randomness:** `worker`,
//!   `wasm_bindgen`, `js_sys`, `Date::now`, `SystemTime` and the like appear
//!   only under `src/edge/`.
//! * **Small files with an overview:** at most [`MAX_LINES`] lines, each
//!   starting with a `//!` comment, none named after a generic word.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The longest a source file may be (tests inside it count).
pub const MAX_LINES: usize = 600;

/// The core's domains, from the bottom up. `config` sits on top of them.
const DOMAINS: [&str; 9] = [
    "base",
    "traffic",
    "links",
    "attribution",
    "ingest",
    "roster",
    "reporting",
    "outbound",
    "config",
];

/// File names that say nothing about their job.
const GENERIC: [&str; 12] = [
    "names", "job", "input", "order", "page", "ledger", "rows", "utils", "util", "misc", "helpers",
    "common",
];

/// What the core may never mention: the Workers runtime, JS, the clock and
/// randomness (all of them are the shell's).
const SHELL_ONLY: [&str; 9] = [
    "worker::",
    "use worker",
    "wasm_bindgen",
    "js_sys",
    "web_sys",
    "Date::now",
    "SystemTime",
    "Instant::now",
    "getrandom",
];

/// Where a module sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Layer {
    /// `lib.rs` and the tidy test itself: they see everything.
    Root,
    /// A core domain, by rank.
    Core(usize),
    /// `edge/*.rs`: the shell's base.
    EdgeBase,
    /// `edge/{domain}/`, by the domain's rank.
    Edge(usize),
    /// `edge/entry/`: the entry points, which dispatch to every domain.
    EdgeTop,
}

fn rank(domain: &str) -> Option<usize> {
    DOMAINS.iter().position(|d| *d == domain)
}

/// The module path of a file under `src/` (`links/code.rs` → `links::code`,
/// `links/mod.rs` → `links`, `lib.rs` → the crate root).
fn module_of(file: &str) -> Vec<String> {
    let file = file.strip_suffix(".rs").unwrap_or(file);
    let mut parts: Vec<String> = file.split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn layer_of(module: &[String]) -> Layer {
    match module {
        [] => Layer::Root,
        [first, ..] if first == "tidy" => Layer::Root,
        [edge] if edge == "edge" => Layer::EdgeBase,
        [edge, top, ..] if edge == "edge" && top == "entry" => Layer::EdgeTop,
        [edge, second, ..] if edge == "edge" => rank(second).map_or(Layer::EdgeBase, Layer::Edge),
        [first, ..] => rank(first).map_or(Layer::Root, Layer::Core),
    }
}

/// Whether a module in layer `from` may import one in layer `to`.
fn may_import(from: Layer, to: Layer) -> bool {
    use Layer::*;
    match (from, to) {
        (Root | EdgeTop, _) | (_, Root) => true,
        (Core(a), Core(b)) => b <= a,
        (Core(_), _) => false,
        (EdgeBase, Core(_) | EdgeBase) => true,
        (EdgeBase, _) => false,
        (Edge(_), Core(_) | EdgeBase) => true,
        (Edge(a), Edge(b)) => b <= a,
        (Edge(_), EdgeTop) => false,
    }
}

/// The text with comments and the contents of string literals removed
/// (a doc link is no import, and an SQL string may say anything).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                if b.get(i) == Some(&b'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            out.push('"');
            i += 1;
        } else {
            // Only ASCII is kept, so byte offsets are char boundaries.
            out.push(if b[i].is_ascii() { b[i] as char } else { ' ' });
            i += 1;
        }
    }
    out
}

/// The module paths a file's code refers to: `crate::a::b::c` and
/// `super::x` (resolved against the file's own module), as written.
fn references(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut refs = Vec::new();
    let bytes = code.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < bytes.len() {
        let at_word = i == 0 || !ident(bytes[i - 1]);
        let rest = &code[i..];
        let (base, skip) = if at_word && rest.starts_with("crate::") {
            (Vec::new(), "crate::".len())
        } else if at_word && rest.starts_with("super::") {
            // `super` of `a/b.rs` (module a::b) is `a`; of `a/mod.rs` (a), the root.
            let mut m = module.to_vec();
            let mut j = i;
            let mut ups = 0;
            while code[j..].starts_with("super::") {
                ups += 1;
                j += "super::".len();
            }
            for _ in 0..ups {
                m.pop();
            }
            (m, j - i)
        } else {
            i += 1;
            continue;
        };
        let mut path = base;
        let mut j = i + skip;
        loop {
            let start = j;
            while j < bytes.len() && ident(bytes[j]) {
                j += 1;
            }
            if start == j {
                break;
            }
            path.push(code[start..j].to_owned());
            if code[j..].starts_with("::")
                && code[j + 2..].starts_with(|c: char| c.is_alphabetic() || c == '_')
            {
                j += 2;
            } else {
                break;
            }
        }
        let group = if code[j..].starts_with("::{") {
            Some(j + 3)
        } else if code[j..].starts_with('{') && j == i + skip {
            Some(j + 1)
        } else {
            None
        };
        if let Some(open) = group {
            // A group: each member is a path of its own.
            let close = code[open..].find('}').map_or(code.len(), |k| open + k);
            for member in code[open..close].split(',') {
                let name: String = member
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != "self" {
                    let mut p = path.clone();
                    p.push(name);
                    refs.push(p);
                }
            }
        }
        if !path.is_empty() {
            refs.push(path);
        }
        i = j.max(i + 1);
    }
    refs
}

/// The file a path names: the longest prefix that is a file's module.
fn resolve<'a>(path: &[String], modules: &'a BTreeMap<Vec<String>, String>) -> Option<&'a String> {
    (1..=path.len()).rev().find_map(|n| modules.get(&path[..n]))
}

/// Every broken rule in a tree of `(path under src/, text)`, one line each.
fn check_tree(files: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    let modules: BTreeMap<Vec<String>, String> = files
        .iter()
        .map(|(f, _)| (module_of(f), f.clone()))
        .collect();
    let mut graph: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (file, text) in files {
        let module = module_of(file);
        let layer = layer_of(&module);
        let lines = text.lines().count();
        if lines > MAX_LINES {
            problems.push(format!("{file}: {lines} lines, more than {MAX_LINES}"));
        }
        if !text.starts_with("//!") {
            problems.push(format!("{file}: does not start with a //! overview"));
        }
        let stem = file
            .rsplit('/')
            .next()
            .unwrap_or(file)
            .trim_end_matches(".rs");
        if GENERIC.contains(&stem) {
            problems.push(format!("{file}: `{stem}` says nothing about its job"));
        }
        let code = code_only(text);
        let in_core = !matches!(layer, Layer::EdgeBase | Layer::Edge(_) | Layer::EdgeTop);
        if in_core && file != "tidy.rs" {
            for word in SHELL_ONLY {
                if code.contains(word) {
                    problems.push(format!("{file}: the core mentions `{word}` (shell only)"));
                }
            }
        }
        for path in references(&module, &code) {
            let Some(target) = resolve(&path, &modules) else {
                continue;
            };
            if target == file {
                continue;
            }
            let target_module = module_of(target);
            let to = layer_of(&target_module);
            if !may_import(layer, to) {
                problems.push(format!(
                    "{file}: imports `{}` ({target}), a layer above it",
                    path.join("::")
                ));
            }
            // A parent re-exporting its children is structure, not a cycle.
            if !target_module.starts_with(&module) || module.is_empty() {
                graph.entry(file).or_default().insert(target.as_str());
            }
        }
    }
    problems.extend(cycles(&graph));
    problems.sort();
    problems.dedup();
    problems
}

/// One line per cycle found by a depth-first search of the file graph.
fn cycles(graph: &BTreeMap<&str, BTreeSet<&str>>) -> Vec<String> {
    fn visit<'a>(
        n: &'a str,
        graph: &BTreeMap<&'a str, BTreeSet<&'a str>>,
        state: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
        found: &mut Vec<String>,
    ) {
        state.insert(n, 1);
        stack.push(n);
        for &m in graph.get(n).into_iter().flatten() {
            match state.get(m) {
                None => visit(m, graph, state, stack, found),
                Some(1) => {
                    let from = stack.iter().position(|x| *x == m).unwrap_or(0);
                    let mut cycle: Vec<&str> = stack[from..].to_vec();
                    cycle.push(m);
                    found.push(format!("cycle: {}", cycle.join(" -> ")));
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n, 2);
    }
    let mut state = BTreeMap::new();
    let mut found = Vec::new();
    for &n in graph.keys() {
        if !state.contains_key(n) {
            visit(n, graph, &mut state, &mut Vec::new(), &mut found);
        }
    }
    found
}

fn read_tree(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("src/ is readable")
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        if path.is_dir() {
            read_tree(&path, &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".rs") {
            let text = std::fs::read_to_string(&path).expect("source is UTF-8");
            out.push((format!("{prefix}{name}"), text));
        }
    }
}

#[test]
fn the_house_rules_hold() {
    let mut files = Vec::new();
    read_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut files,
    );
    assert!(files.len() > 50, "read {} files", files.len());
    let problems = check_tree(&files);
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// `check(files, expected problems)` on a made-up tree.
fn check(files: &[(&str, &str)], expected: &[&str]) {
    let files: Vec<(String, String)> = files
        .iter()
        .map(|(f, t)| ((*f).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(check_tree(&files), expected);
}

#[test]
fn the_rules_catch_what_they_should() {
    const OK: &str = "//! doc\n";
    // Downward imports, the crate root and the shell's entry are fine.
    check(
        &[
            ("lib.rs", "//! root\npub mod base;\n"),
            ("base/time.rs", OK),
            ("links/slug.rs", "//! s\nuse crate::base::time::Millis;\n"),
            ("edge/d1.rs", "//! d\nuse crate::links::slug::Slug;\n"),
            (
                "edge/links/cache.rs",
                "//! c\nuse crate::edge::d1;\nuse super::super::d1::x;\n",
            ),
            ("edge/entry.rs", "//! e\nuse crate::edge::links::cache;\n"),
        ],
        &[],
    );
    // An upward import, in the core and in the shell; the core naming edge.
    check(
        &[
            ("base/time.rs", "//! t\nuse crate::links::slug::Slug;\n"),
            ("links/slug.rs", OK),
            ("edge/d1.rs", "//! d\nuse crate::edge::links::cache::get;\n"),
            ("edge/links/cache.rs", OK),
            ("traffic/ua.rs", "//! u\nfn f() { crate::edge::now(); }\n"),
            ("edge/mod.rs", OK),
        ],
        &[
            "base/time.rs: imports `links::slug::Slug` (links/slug.rs), a layer above it",
            "edge/d1.rs: imports `edge::links::cache::get` (edge/links/cache.rs), a layer above it",
            "traffic/ua.rs: imports `edge::now` (edge/mod.rs), a layer above it",
        ],
    );
    // A cycle inside one domain, also through a group and `super`.
    check(
        &[
            (
                "links/code.rs",
                "//! c\nuse crate::links::{discount::Style, slug};\n",
            ),
            ("links/discount.rs", "//! d\nuse super::code::PromoCode;\n"),
            ("links/slug.rs", OK),
        ],
        &["cycle: links/code.rs -> links/discount.rs -> links/code.rs"],
    );
    // Comments and strings are no imports; a folder's mod.rs may use its children.
    check(
        &[
            (
                "links/code.rs",
                "//! see [`crate::links::slug`]\nconst S: &str = \"crate::links::slug\";\n",
            ),
            ("links/slug.rs", "//! s\nuse crate::links::code::X;\n"),
            (
                "links/qr/mod.rs",
                "//! q\nmod png;\npub use self::png::encode;\nuse crate::links::qr::png::x;\n",
            ),
            ("links/qr/png.rs", "//! p\nuse super::Options;\n"),
        ],
        &[],
    );
    // The shell's things in the core, a long file, no overview, a vague name.
    let long = format!("//! l\n{}", "\n".repeat(MAX_LINES));
    check(
        &[
            (
                "base/time.rs",
                "//! t\nfn now() -> u64 { worker::Date::now().as_millis() }\n",
            ),
            ("base/long.rs", &long),
            ("links/names.rs", "pub struct Handle;\n"),
        ],
        &[
            "base/long.rs: 601 lines, more than 600",
            "base/time.rs: the core mentions `Date::now` (shell only)",
            "base/time.rs: the core mentions `worker::` (shell only)",
            "links/names.rs: `names` says nothing about its job",
            "links/names.rs: does not start with a //! overview",
        ],
    );
}
