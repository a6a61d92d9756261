//! The library's folders are layers: each module may use only its own
//! layer and those below it (tests apart). This test reads the sources and
//! fails on an import that goes up, so the layering in `lib.rs`'s
//! documentation stays true.

use std::path::Path;

/// Bottom to top; a layer may import from itself and the layers before it.
const LAYERS: [&str; 6] = [
    "math",
    "ring",
    "scheme",
    "circuits",
    "bootstrap",
    "serialize",
];

/// Crate-root modules every layer may use.
const SHARED: [&str; 3] = ["error", "progress", "alloc_tuning"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_a_layer_above_its_own() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    for (rank, layer) in LAYERS.iter().enumerate() {
        let mut files = Vec::new();
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "no sources under src/{layer}");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            // Everything from the first test module on is test code.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (n, line) in code.lines().enumerate() {
                for (at, _) in line.match_indices("crate::") {
                    let used = line[at + 7..]
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .next()
                        .unwrap_or("");
                    let allowed = SHARED.contains(&used)
                        || LAYERS[..=rank].contains(&used)
                        || !LAYERS.contains(&used);
                    if !allowed {
                        violations.push(format!(
                            "{}:{}: {layer} uses {used}",
                            file.strip_prefix(&src).unwrap().display(),
                            n + 1
                        ));
                    }
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "imports that go up a layer:\n{}",
        violations.join("\n")
    );
}
