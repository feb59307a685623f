//! Build script: embeds `src/openapi.json` minified (the worker serves it
//! at `/openapi.json`; whitespace is wasm size). The source file stays
//! readable, and `route.rs` tests it against the route table.

use std::path::Path;

fn main() {
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
