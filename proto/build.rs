//! Compiles proto/hcp/v1/*.proto with protox (pure Rust, no system protoc) and
//! generates prost messages; gRPC stubs only with the `grpc` feature.

use std::{env, fs, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("hcp/v1");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    files.sort();
    for f in &files {
        println!("cargo:rerun-if-changed={}", f.display());
    }
    let root = dir.parent().and_then(|p| p.parent()).ok_or("proto root")?;
    let fds = protox::compile(&files, [root])?;

    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("hcp_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;

    let grpc = env::var_os("CARGO_FEATURE_GRPC").is_some();
    // Stored payloads as `Bytes`: decoding a message read from the store slices them out
    // of the message instead of copying each one.
    tonic_prost_build::configure()
        .bytes(".hcp.v1.EventEnvelope.payload")
        .build_client(grpc)
        .build_server(grpc)
        .compile_fds(fds)?;
    Ok(())
}
