//! The IR's text: parse, verify, print in both forms, parse again. Nothing
//! may panic, and printing is a fixed point: what was printed parses to a
//! module that prints the same.

#![no_main]

use libfuzzer_sys::fuzz_target;
use orion_dialects::{parse_module, print_module, verify::verify_module, PrintOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(module) = parse_module(text, "fuzz.mlir") else {
        return;
    };
    let _ = verify_module(&module);
    for generic in [false, true] {
        let opts = PrintOptions { generic };
        let printed = print_module(&module, &opts);
        let again = parse_module(&printed, "printed.mlir")
            .unwrap_or_else(|e| panic!("printed IR does not parse: {e}\n{printed}"));
        assert_eq!(
            print_module(&again, &opts),
            printed,
            "printing is not a fixed point"
        );
    }
});
