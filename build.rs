//! Build script: embeds `src/openapi.json` minified (the worker serves it
//! at `/openapi.json`; whitespace is wasm size). The source file stays
//! readable, and `route.rs` tests it against the route table. It also sets
//! `cfg(full)` for every build but the redirect worker's.

use std::path::Path;

fn main() {
    // `cfg(full)`: the full worker, i.e. not the `redirect-only` build. The
    // shell gates what only the full worker uses with it, so the redirect
    // worker's build has no dead code to allow (ARCHITECTURE.md, Decisions).
    println!("cargo::rustc-check-cfg=cfg(full)");
    if std::env::var_os("CARGO_FEATURE_REDIRECT_ONLY").is_none() {
        println!("cargo::rustc-cfg=full");
    }
    println!("cargo:rerun-if-changed=src/openapi.json");
    let text = std::fs::read_to_string("src/openapi.json").expect("src/openapi.json is readable");
    let doc: serde_json::Value =
        serde_json::from_str(&text).expect("src/openapi.json is valid JSON");
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(
        Path::new(&out).join("openapi.min.json"),
        serde_json::to_string(&doc).expect("JSON serialises"),
    )
    .expect("OUT_DIR is writable");
}
