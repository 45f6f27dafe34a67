//! No import circles between the library's modules.
//!
//! A circle makes modules one unit that can only be read, tested and changed together, and it
//! grows quietly: nothing in `rustc` refuses one. So this test reads every `.rs` file under `src/`,
//! builds the graph of which module uses which, and fails listing each circle.
//!
//! - **Modules.** A file is a module: `lib.rs` is the crate root, `a.rs` or `a/mod.rs` is `a`, and
//!   `#[path]` is followed. Inline modules (`mod tests { ... }`) belong to their file. `main.rs` is
//!   the binary, a crate of its own over the library's public API, so the library cannot use it.
//! - **Edges.** A module uses another where it names it: `use crate::…`, `super::…` and `self::…`
//!   paths, paths in code (`crate::wav2vec2::SAMPLE_RATE`), and paths from a child module's name
//!   (`use beam::BeamSearch` in `decoding/mod.rs`). A path is followed to the deepest module it
//!   names, and through `pub use` re-exports to where the item is defined (`crate::Recognizer` is
//!   `recognizer`). Test code counts: a test that needs a higher module ties the two together as
//!   much as any other use. `mod a;` itself is no edge: declaring a child is not using it.
//! - **Circles.** A folder is one unit by design: its `mod.rs` declares, re-exports and dispatches
//!   to its children, they share what it holds, and they may test against each other. So a circle
//!   counts unless one module on it, other than the crate root, contains all the others: `decoding`
//!   → `decoding::beam` → (a test) `decoding::greedy` → `decoding` is `decoding`'s own business,
//!   while a circle that leaves the folder, or runs between siblings without their parent, counts.
//!   (The root is left out because it contains every module: the rule would then allow all.)

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::path::{Path, PathBuf};

/// A module's path from the crate root (empty for the root itself).
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    /// A string literal's contents (for `#[path = "…"]`); other literals are dropped.
    Str(String),
    /// `::`
    PathSep,
    Punct(char),
}

/// Rust source as identifiers, `::` and punctuation with their lines; comments, numbers, chars and
/// lifetimes are dropped, so a `crate::` in a doc comment or a string is no edge.
fn tokens(source: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = source.chars().collect();
    let (mut out, mut i, mut line) = (Vec::new(), 0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    // Moves past chars[from..to], counting lines.
    let advance = |from: usize, to: usize, line: &mut usize| {
        *line += chars[from..to.min(chars.len())].iter().filter(|&&c| c == '\n').count();
        to
    };
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            let end = (i..chars.len()).find(|&j| chars[j] == '\n').unwrap_or(chars.len());
            i = advance(i, end, &mut line);
        } else if c == '/' && at(i + 1) == '*' {
            let (mut depth, mut j) = (1, i + 2);
            while j < chars.len() && depth > 0 {
                if chars[j] == '/' && at(j + 1) == '*' {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && at(j + 1) == '/' {
                    depth -= 1;
                    j += 2;
                } else {
                    j += 1;
                }
            }
            i = advance(i, j, &mut line);
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            out.push((Token::Str(chars[i + 1..j.min(chars.len())].iter().collect()), line));
            i = advance(i, j + 1, &mut line);
        } else if c == '\'' {
            // A char literal ('a', '\n', '\''), else a lifetime or label ('a).
            let end = if at(i + 1) == '\\' {
                (i + 3..chars.len()).find(|&j| chars[j] == '\'').map_or(chars.len(), |j| j + 1)
            } else if at(i + 2) == '\'' {
                i + 3
            } else {
                i + 1
            };
            i = advance(i, end, &mut line);
        } else if c.is_alphabetic() || c == '_' {
            let end = (i..chars.len()).find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_')).unwrap_or(chars.len());
            let word: String = chars[i..end].iter().collect();
            let hashes = (end..chars.len()).take_while(|&j| chars[j] == '#').count();
            if matches!(word.as_str(), "r" | "br" | "cr") && at(end + hashes) == '"' {
                let open = end + hashes + 1;
                let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let rest: String = chars[open.min(chars.len())..].iter().collect();
                let length = rest.find(&close).map_or(rest.chars().count(), |byte| rest[..byte].chars().count());
                out.push((Token::Str(chars[open..open + length].iter().collect()), line));
                i = advance(i, open + length + close.chars().count(), &mut line);
            } else if matches!(word.as_str(), "b" | "c") && matches!(at(end), '"' | '\'') {
                // The literal itself is read on the next turn.
                i = end;
            } else {
                out.push((Token::Ident(word), line));
                i = end;
            }
        } else if c.is_ascii_digit() {
            let end = (i..chars.len()).find(|&j| !(chars[j].is_alphanumeric() || chars[j] == '_')).unwrap_or(chars.len());
            i = end;
        } else if c == ':' && at(i + 1) == ':' {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            if c == '\n' {
                line += 1;
            } else if !c.is_whitespace() {
                out.push((Token::Punct(c), line));
            }
            i += 1;
        }
    }
    out
}

/// One file of the library, read.
struct SourceFile {
    path: PathBuf,
    module: ModPath,
    tokens: Vec<(Token, usize)>,
}

/// Finds the library's files from `lib.rs` through their `mod` declarations.
fn library_files(src: &Path) -> Vec<SourceFile> {
    let mut files = Vec::new();
    let mut queue = VecDeque::from([(src.join("lib.rs"), ModPath::new())]);
    while let Some((path, module)) = queue.pop_front() {
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let tokens = tokens(&source);
        let dir = path.parent().expect("a file has a folder").to_path_buf();
        let is_mod_rs = module.is_empty() || path.file_name().is_some_and(|name| name == "mod.rs");
        // Children of `a.rs` live in `a/`, those of `a/mod.rs` and `lib.rs` next to it.
        let children_dir = if is_mod_rs { dir.clone() } else { dir.join(path.file_stem().expect("a file has a name")) };
        let mut attribute_path: Option<String> = None;
        let mut depth = 0;
        for (i, (token, _)) in tokens.iter().enumerate() {
            match token {
                Token::Punct('{') => depth += 1,
                Token::Punct('}') => depth -= 1,
                Token::Ident(word) if word == "path" && i >= 2 && tokens[i - 1].0 == Token::Punct('[') => {
                    if let (Some((Token::Punct('='), _)), Some((Token::Str(file), _))) = (tokens.get(i + 1), tokens.get(i + 2)) {
                        attribute_path = Some(file.clone());
                    }
                }
                Token::Ident(word) if word == "mod" && depth == 0 => {
                    let (Some((Token::Ident(name), _)), Some((Token::Punct(';'), _))) = (tokens.get(i + 1), tokens.get(i + 2)) else {
                        attribute_path = None;
                        continue;
                    };
                    let child = match attribute_path.take() {
                        Some(file) => dir.join(file),
                        None if children_dir.join(format!("{name}.rs")).is_file() => children_dir.join(format!("{name}.rs")),
                        None => children_dir.join(name).join("mod.rs"),
                    };
                    queue.push_back((child, [module.clone(), vec![name.clone()]].concat()));
                }
                Token::Punct(';') => attribute_path = None,
                _ => {}
            }
        }
        files.push(SourceFile { path, module, tokens });
    }
    files
}

/// A path as written (`crate::a::B`, `super::x`, `{self}` included as `self`) in module `scope` (the
/// file's module plus any inline modules around it), made absolute; `None` for other crates' paths,
/// and paths that start at a local item (`Self::new`, `Label::Blank`).
fn absolute(segments: &[String], scope: &[String], modules: &BTreeSet<ModPath>) -> Option<ModPath> {
    let (first, rest) = segments.split_first()?;
    let mut path = match first.as_str() {
        "crate" => ModPath::new(),
        "self" => scope.to_vec(),
        "super" => scope[..scope.len().checked_sub(1)?].to_vec(),
        child if modules.contains(&[scope.to_vec(), vec![child.to_string()]].concat()) => [scope.to_vec(), vec![child.to_string()]].concat(),
        _ => return None,
    };
    let mut rest = rest.iter().peekable();
    while rest.peek().is_some_and(|s| *s == "super") {
        path.pop();
        rest.next();
    }
    path.extend(rest.filter(|s| *s != "self").cloned());
    Some(path)
}

/// The file module an absolute path names: its deepest module, or, where it goes on into an item
/// that module re-exports, the module the re-export leads to. (Re-exports of other crates' items
/// are not in `reexports`: [`absolute`] has no path for them.)
fn resolve(path: &[String], modules: &BTreeSet<ModPath>, reexports: &HashMap<ModPath, HashMap<String, ModPath>>) -> Option<ModPath> {
    let mut path = path.to_vec();
    for _ in 0..16 {
        let depth = (0..=path.len()).rev().find(|&n| modules.contains(&path[..n])).unwrap_or(0);
        let module = path[..depth].to_vec();
        let Some(target) = path.get(depth).and_then(|name| reexports.get(&module)?.get(name)) else { return Some(module) };
        path = [target.clone(), path[depth + 1..].to_vec()].concat();
    }
    panic!("re-exports that lead in a circle: {path:?}")
}

/// A path met in a file: the module scope it was written in, its segments, its line, and whether
/// it is a `pub use` (whose last segment, or `as` name, is then a name the module re-exports).
struct PathUse {
    scope: ModPath,
    segments: Vec<String>,
    line: usize,
    reexport_as: Option<String>,
}

/// Every `use` path and every path in code that starts at `crate`, `super`, `self` or a child
/// module in `file`.
fn paths(file: &SourceFile, modules: &BTreeSet<ModPath>) -> Vec<PathUse> {
    let tokens = &file.tokens;
    let ident = |i: usize| match tokens.get(i) {
        Some((Token::Ident(word), _)) => Some(word.as_str()),
        _ => None,
    };
    let mut out = Vec::new();
    // Inline modules open around the current token, with the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let scope: ModPath = [file.module.clone(), inline.iter().map(|(name, _)| name.clone()).collect()].concat();
        match &tokens[i].0 {
            Token::Punct('{') => depth += 1,
            Token::Punct('}') => {
                if inline.last().is_some_and(|(_, at)| *at == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            Token::Ident(word) if word == "mod" => {
                if let (Some(name), Some((Token::Punct('{'), _))) = (ident(i + 1), tokens.get(i + 2)) {
                    inline.push((name.to_string(), depth + 1));
                }
            }
            Token::Ident(word) if word == "use" => {
                // `pub use` or `pub(…) use`.
                let before = match i.checked_sub(1).map(|j| &tokens[j].0) {
                    Some(Token::Punct(')')) => (0..i).rev().find(|&j| tokens[j].0 == Token::Punct('(')),
                    _ => Some(i),
                };
                let public = before.and_then(|j| j.checked_sub(1)).is_some_and(|j| ident(j) == Some("pub"));
                let end = (i..tokens.len()).find(|&j| tokens[j].0 == Token::Punct(';')).unwrap_or(tokens.len());
                for (segments, alias) in use_tree(&tokens[i + 1..end]) {
                    let reexport_as = public.then(|| alias.or_else(|| segments.last().cloned())).flatten();
                    out.push(PathUse { scope: scope.clone(), segments, line: tokens[i].1, reexport_as });
                }
                i = end;
            }
            Token::Ident(word) if tokens.get(i + 1).is_some_and(|(t, _)| *t == Token::PathSep) => {
                let starts_path = i == 0 || tokens[i - 1].0 != Token::PathSep;
                let local = matches!(word.as_str(), "crate" | "super" | "self")
                    || modules.contains(&[scope.clone(), vec![word.clone()]].concat());
                if starts_path && local {
                    let mut segments = vec![word.clone()];
                    let mut j = i + 1;
                    while tokens.get(j).is_some_and(|(t, _)| *t == Token::PathSep) {
                        let Some(next) = ident(j + 1) else { break };
                        segments.push(next.to_string());
                        j += 2;
                    }
                    out.push(PathUse { scope: scope.clone(), segments, line: tokens[i].1, reexport_as: None });
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The paths of a use tree (`a::{b, c::{self, D as E}, *}`), each with its `as` name; a glob is its
/// module's path.
fn use_tree(tokens: &[(Token, usize)]) -> Vec<(Vec<String>, Option<String>)> {
    fn walk(tokens: &[(Token, usize)], i: &mut usize, prefix: &[String], out: &mut Vec<(Vec<String>, Option<String>)>) {
        let mut path = prefix.to_vec();
        while *i < tokens.len() {
            match &tokens[*i].0 {
                Token::Ident(word) if word == "as" => {
                    if let Some((Token::Ident(alias), _)) = tokens.get(*i + 1) {
                        out.push((std::mem::take(&mut path), Some(alias.clone())));
                    }
                    *i += 2;
                    continue;
                }
                Token::Ident(word) => path.push(word.clone()),
                Token::PathSep => {}
                Token::Punct('*') => out.push((std::mem::take(&mut path), None)),
                Token::Punct('{') => {
                    *i += 1;
                    walk(tokens, i, &path, out);
                    // Nothing more to push for this item: the group pushed its paths.
                    path = prefix.to_vec();
                    continue;
                }
                Token::Punct(',') | Token::Punct('}') => {
                    if path.len() > prefix.len() {
                        out.push((std::mem::take(&mut path), None));
                    }
                    path = prefix.to_vec();
                    if tokens[*i].0 == Token::Punct('}') {
                        *i += 1;
                        return;
                    }
                }
                _ => {}
            }
            *i += 1;
        }
        if path.len() > prefix.len() {
            out.push((path, None));
        }
    }
    let mut out = Vec::new();
    walk(tokens, &mut 0, &[], &mut out);
    // `a::{self}` is `a`.
    for (path, _) in &mut out {
        if path.len() > 1 && path.last().is_some_and(|s| s == "self") {
            path.pop();
        }
    }
    out.retain(|(path, _)| !path.is_empty());
    out
}

/// Each module's uses of other modules, with where the first use of each is.
type Graph = BTreeMap<ModPath, BTreeMap<ModPath, String>>;

fn module_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = library_files(&src);
    let reached: BTreeSet<PathBuf> = files.iter().map(|f| f.path.clone()).collect();
    let mut pending = vec![src.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && path != src.join("main.rs") {
                // A file the walk missed would hide its edges.
                assert!(reached.contains(&path), "{} is not reached from lib.rs through `mod` declarations", path.display());
            }
        }
    }
    let modules: BTreeSet<ModPath> = files.iter().map(|f| f.module.clone()).collect();
    let uses: Vec<(&SourceFile, Vec<PathUse>)> = files.iter().map(|f| (f, paths(f, &modules))).collect();
    let mut reexports: HashMap<ModPath, HashMap<String, ModPath>> = HashMap::new();
    for (file, paths) in &uses {
        for path in paths {
            if let (Some(name), Some(target)) = (&path.reexport_as, absolute(&path.segments, &path.scope, &modules)) {
                reexports.entry(file.module.clone()).or_default().insert(name.clone(), target);
            }
        }
    }
    let mut graph = Graph::new();
    for (file, paths) in &uses {
        let edges = graph.entry(file.module.clone()).or_default();
        for path in paths {
            let Some(target) = absolute(&path.segments, &path.scope, &modules).and_then(|p| resolve(&p, &modules, &reexports)) else {
                continue;
            };
            if target != file.module {
                let relative = file.path.strip_prefix(src.parent().unwrap()).unwrap_or(&file.path);
                edges.entry(target).or_insert_with(|| format!("{}:{}", relative.display(), path.line));
            }
        }
    }
    graph
}

fn name(module: &[String]) -> String {
    if module.is_empty() { "crate".into() } else { module.join("::") }
}

/// Whether one module contains the other.
fn related(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// Circles that count (see the module's documentation), each as its modules in order, starting
/// from its least: for every step between unrelated modules that lies on such a circle, the
/// shortest one found through it, unless a circle found before already goes through it. (A circle
/// whose steps all join a module and its ancestor lies inside the topmost one's folder.)
fn circles(graph: &Graph) -> BTreeSet<Vec<ModPath>> {
    let mut found: BTreeSet<Vec<ModPath>> = BTreeSet::new();
    let on_found = |found: &BTreeSet<Vec<ModPath>>, from: &ModPath, to: &ModPath| {
        found.iter().any(|circle| circle.iter().zip(circle.iter().cycle().skip(1)).any(|(a, b)| a == from && b == to))
    };
    for (from, edges) in graph {
        for to in edges.keys().filter(|to| !related(from, to)) {
            if on_found(&found, from, to) {
                continue;
            }
            // The folders holding both ends, outermost first. A circle through this step that stays
            // inside some of them counts only if it avoids the innermost of those: look for one
            // inside the t-th (none for t = 0) that avoids it and leaves the next one in.
            let common: Vec<ModPath> = (1..from.len().min(to.len())).filter(|&n| from[..n] == to[..n]).map(|n| from[..n].to_vec()).collect();
            let back = (0..=common.len()).find_map(|t| {
                let inside = t.checked_sub(1).map(|i| &common[i]);
                let allowed = |m: &ModPath| inside.is_none_or(|folder| m.starts_with(folder) && m != folder);
                path(graph, to, from, allowed, common.get(t))
            });
            let Some(mut circle) = back else { continue };
            let least = (0..circle.len()).min_by_key(|&i| &circle[i]).unwrap_or(0);
            circle.rotate_left(least);
            found.insert(circle);
        }
    }
    found
}

/// The shortest path from `start` to `goal` through modules that are `allowed`, and that passes
/// outside `leave` where that is given.
fn path(graph: &Graph, start: &ModPath, goal: &ModPath, allowed: impl Fn(&ModPath) -> bool, leave: Option<&ModPath>) -> Option<Vec<ModPath>> {
    let outside = |m: &ModPath| leave.is_none_or(|folder| !m.starts_with(folder));
    let first = (start, outside(start));
    let mut came_from: HashMap<(&ModPath, bool), (&ModPath, bool)> = HashMap::new();
    let mut queue = VecDeque::from([first]);
    while let Some(state) = queue.pop_front() {
        if state == (goal, true) {
            let mut path = vec![state.0.clone()];
            let mut at = state;
            while at != first {
                at = came_from[&at];
                path.push(at.0.clone());
            }
            path.reverse();
            return Some(path);
        }
        for next in graph.get(state.0).into_iter().flat_map(|edges| edges.keys()).filter(|m| allowed(m)) {
            let next = (next, state.1 || outside(next));
            if next != first && !came_from.contains_key(&next) {
                came_from.insert(next, state);
                queue.push_back(next);
            }
        }
    }
    None
}

#[test]
fn no_module_is_in_an_import_circle() {
    let graph = module_graph();
    let circles = circles(&graph);
    let report: Vec<String> = circles
        .iter()
        .map(|circle| {
            let steps = circle.iter().zip(circle.iter().cycle().skip(1));
            steps.map(|(a, b)| format!("  {} -> {} ({})", name(a), name(b), graph[a][b])).collect::<Vec<_>>().join("\n")
        })
        .collect();
    assert!(circles.is_empty(), "{} import circle(s) between modules:\n{}", circles.len(), report.join("\n\n"));
}

/// The check above passes on a graph with no edges, so the parser must find ones known to exist.
#[test]
fn the_graph_has_the_uses_the_source_makes() {
    let graph = module_graph();
    let module = |path: &str| -> ModPath { path.split("::").filter(|s| !s.is_empty()).map(String::from).collect() };
    for (from, to) in [
        ("streaming", "recognizer"),      // use crate::recognizer::{…}
        ("decoding", "vocab"),            // use crate::vocab::…
        ("decoding::beam", "lm"),         // use crate::lm::…
        ("evaluation", "recognizer"),     // use crate::{…, Recognizer}: through lib.rs's re-export
        ("decoding::beam", "decoding"),   // use super::…
        ("wav2vec2::weights", "wav2vec2::kernels"),
        ("wav2vec2::kernels::int8::backend", "wav2vec2::kernels::elementwise"), // #[path] file, super::super::
    ] {
        let edges = graph.get(&module(from)).unwrap_or_else(|| panic!("no module {from}"));
        assert!(edges.contains_key(&module(to)), "{from} -> {to} not found; {from} uses {:?}", edges.keys().map(|m| name(m)).collect::<Vec<_>>());
    }
}
