//! Embeds the NLU training data: every `intents/**/*.yml` becomes an `include_str!` entry in
//! `$OUT_DIR/intents_embedded.rs`, so the shipped model is trained from the data compiled into
//! the binary and `freshbot nlu parse` works from any working directory.

use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let intents = root.join("intents");
    println!("cargo:rerun-if-changed=intents");
    println!("cargo:rerun-if-changed=build.rs");
    // With the `bert` feature the binaries load libtorch's shared libraries at run time: record
    // their folder as an rpath so `freshbot` runs without LD_LIBRARY_PATH (torch-sys does not).
    if std::env::var_os("CARGO_FEATURE_BERT").is_some() {
        println!("cargo:rerun-if-env-changed=LIBTORCH");
        if let Ok(dir) = std::env::var("LIBTORCH") {
            println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}/lib");
        }
    }
    let mut files = Vec::new();
    collect(&intents, &mut files);
    files.sort();
    let mut code = String::from(
        "/// `(path relative to intents/, contents)` of every embedded training file.\n",
    );
    code.push_str("pub static INTENT_FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        let rel = f
            .strip_prefix(&intents)
            .unwrap_or(f)
            .to_string_lossy()
            .replace('\\', "/");
        code.push_str(&format!(
            "    ({rel:?}, include_str!({:?})),\n",
            f.to_string_lossy()
        ));
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(e) = std::fs::write(out.join("intents_embedded.rs"), code) {
        panic!("cannot write intents_embedded.rs: {e}");
    }
}
