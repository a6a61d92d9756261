//! The messages of orion-serve's protocol (not its service), for the
//! request-decoding target, with a vendored `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?);
    println!("cargo:rerun-if-changed=../serve/proto/orion_serve.proto");
    prost_build::Config::new()
        .compile_protos(&["../serve/proto/orion_serve.proto"], &["../serve/proto"])?;
    Ok(())
}
