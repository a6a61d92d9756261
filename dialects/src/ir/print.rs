//! The textual forms shared by types, attributes and the printer: floats as
//! MLIR's lexer reads them, lists, keys and escapes.

use std::fmt;

/// Formats a float the way MLIR's lexer reads it: a finite value always has a
/// `.` before any exponent (`1e-5` would lex as the integer `1`).
pub fn format_float(v: f64) -> String {
    if !v.is_finite() {
        // MLIR spells non-finite floats as hexadecimal bit patterns.
        return format!("0x{:016X}", v.to_bits());
    }
    let s = format!("{v:?}");
    if s.contains('.') {
        return s;
    }
    match s.find('e') {
        Some(i) => format!("{}.0{}", &s[..i], &s[i..]),
        None => format!("{s}.0"),
    }
}

/// `a, b, c`.
pub(crate) fn write_list<T: fmt::Display>(f: &mut fmt::Formatter<'_>, items: &[T]) -> fmt::Result {
    for (i, t) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{t}")?;
    }
    Ok(())
}

/// MLIR's bare-id: `[A-Za-z_][A-Za-z0-9_$.]*`.
pub fn is_bare_id(k: &str) -> bool {
    k.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_$.".contains(c))
}

/// Dictionary keys that are not bare identifiers are quoted.
pub fn format_key(k: &str) -> String {
    if is_bare_id(k) {
        k.to_string()
    } else {
        format!("\"{}\"", escape(k))
    }
}

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\x7F' => out.push_str(&format!("\\{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}
