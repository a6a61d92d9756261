//! Generates the gRPC service from `proto/orion_serve.proto` with a vendored
//! `protoc` (the build needs no system protobuf compiler).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    println!("cargo:rerun-if-changed=proto/orion_serve.proto");
    tonic_prost_build::configure().compile_protos(&["proto/orion_serve.proto"], &["proto"])?;
    Ok(())
}
