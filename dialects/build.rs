//! Generates the parser of the textual IR from `src/syntax/grammar.lalrpop`
//! (into `$OUT_DIR/syntax/grammar.rs`).

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        .process()
        .expect("lalrpop failed on src/syntax/grammar.lalrpop");
}
