//! Tokens of the textual IR, lexed with `logos`.
//!
//! A few points where MLIR's lexical structure needs care:
//! - `1x784xf32` in `tensor<1x784xf32>` lexes as one `Dims` token `1x784x`
//!   followed by the element type `f32` (MLIR splits a bare identifier in its
//!   parser instead; a dimension prefix token is simpler for an LR grammar).
//! - Negative numbers are single tokens (`-2.0e-05`, `-3`); `->` is its own
//!   token, and nothing else in the syntax starts with `-`.
//! - A string is one token whatever its length, so a megabyte hex blob in the
//!   resource section costs the parser one shift.
//! - Keywords (`module`, `tensor`, `f32`, ...) are separate tokens; wherever a
//!   bare identifier is a key (attribute names, resource names) the grammar
//!   accepts keywords too.

use logos::Logos;
use std::fmt;

#[derive(Logos, Clone, Copy, Debug, PartialEq)]
#[logos(skip r"[ \t\r\n\x0C]+")]
#[logos(skip(r"//[^\n]*", allow_greedy = true))]
pub enum Tok<'a> {
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token(",")]
    Comma,
    #[token("=")]
    Eq,
    #[token(":")]
    Colon,
    #[token("->")]
    Arrow,
    #[token("{-#")]
    MetaStart,
    #[token("#-}")]
    MetaEnd,

    #[token("module")]
    KwModule,
    #[token("attributes")]
    KwAttributes,
    #[token("func.func")]
    KwFunc,
    #[token("return")]
    KwReturn,
    #[token("func.return")]
    KwFuncReturn,
    #[token("loc")]
    KwLoc,
    #[token("true")]
    KwTrue,
    #[token("false")]
    KwFalse,
    #[token("unit")]
    KwUnit,
    #[token("dense")]
    KwDense,
    #[token("dense_resource")]
    KwDenseResource,
    #[token("array")]
    KwArray,
    #[token("tensor")]
    KwTensor,
    #[token("f32")]
    KwF32,
    #[token("f64")]
    KwF64,
    #[token("i1")]
    KwI1,
    #[token("i32")]
    KwI32,
    #[token("i64")]
    KwI64,
    #[token("index")]
    KwIndex,

    /// `nn.gemm`, `trans_b`, `x`: MLIR's bare-id.
    #[regex(r"[A-Za-z_][A-Za-z0-9_$.]*", |lex| lex.slice())]
    Ident(&'a str),
    /// `%name`, `%0`, `%0#1`: the text after `%`.
    #[regex(r"%([0-9]+|[A-Za-z_$.\-][A-Za-z0-9_$.\-]*)(#[0-9]+)?", |lex| &lex.slice()[1..])]
    Value(&'a str),
    /// `^bb0`: the text after `^`.
    #[regex(r"\^([0-9]+|[A-Za-z_$.\-][A-Za-z0-9_$.\-]*)", |lex| &lex.slice()[1..])]
    Block(&'a str),
    /// `@main`: the text after `@` (quoted symbols are `SymbolStr`).
    #[regex(r"@[A-Za-z_][A-Za-z0-9_$.]*", |lex| &lex.slice()[1..])]
    Symbol(&'a str),
    /// `@"a b"`: the raw (still escaped) text between the quotes.
    #[regex(r#"@"([^"\\\n]|\\[^\n])*""#, |lex| { let s = lex.slice(); &s[2..s.len() - 1] })]
    SymbolStr(&'a str),
    /// `!ckks.ct`: the text after `!`.
    #[regex(r"![A-Za-z_][A-Za-z0-9_$.]*", |lex| &lex.slice()[1..])]
    DialectType(&'a str),
    /// `#alias` (attribute aliases are not supported; lexed for a clear error).
    #[regex(r"#[A-Za-z_][A-Za-z0-9_$.]*", |lex| lex.slice())]
    Hash(&'a str),
    /// `42`, `-3`
    #[regex(r"-?[0-9]+", |lex| lex.slice())]
    Int(&'a str),
    /// `0x7FF0000000000000`
    #[regex(r"0x[0-9a-fA-F]+", |lex| lex.slice())]
    HexInt(&'a str),
    /// `1.5`, `-2.0e-05`, `3.`
    #[regex(r"-?[0-9]+\.[0-9]*([eE][-+]?[0-9]+)?", |lex| lex.slice())]
    Float(&'a str),
    /// `1x784x` (the dimensions of a tensor type, before the element type).
    #[regex(r"([0-9]+x)+", |lex| lex.slice())]
    Dims(&'a str),
    /// `"text"`: the raw (still escaped) text between the quotes.
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, |lex| { let s = lex.slice(); &s[1..s.len() - 1] })]
    Str(&'a str),
    /// A string that reaches the end of its line (reported as an error).
    #[regex(r#""([^"\\\n]|\\[^\n])*"#)]
    UnterminatedStr,
}

impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

/// A lexical error: byte span and message.
#[derive(Clone, Debug, PartialEq)]
pub struct LexError {
    pub start: usize,
    pub message: String,
}

/// The token stream in the shape LALRPOP wants: `(start, token, end)`.
pub struct Lexer<'a> {
    inner: logos::Lexer<'a, Tok<'a>>,
    /// Open brackets of any kind; bounded so that nested attributes can't
    /// overflow the stack of the recursive code that walks or drops them.
    depth: usize,
}

/// Deepest bracket nesting accepted.
pub const MAX_NESTING: usize = 256;

impl<'a> Lexer<'a> {
    pub fn new(src: &'a str) -> Lexer<'a> {
        Lexer {
            inner: Tok::lexer(src),
            depth: 0,
        }
    }
}

pub type Spanned<'a> = Result<(usize, Tok<'a>, usize), LexError>;

impl<'a> Iterator for Lexer<'a> {
    type Item = Spanned<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let tok = self.inner.next()?;
        let span = self.inner.span();
        Some(match tok {
            Ok(Tok::UnterminatedStr) => Err(LexError {
                start: span.start,
                message: "unterminated string literal".into(),
            }),
            Ok(t) => {
                match t {
                    Tok::LParen | Tok::LBrace | Tok::LBracket | Tok::Lt | Tok::MetaStart => {
                        self.depth += 1
                    }
                    Tok::RParen | Tok::RBrace | Tok::RBracket | Tok::Gt | Tok::MetaEnd => {
                        self.depth = self.depth.saturating_sub(1)
                    }
                    _ => {}
                }
                if self.depth > MAX_NESTING {
                    return Some(Err(LexError {
                        start: span.start,
                        message: format!("brackets nested more than {MAX_NESTING} deep"),
                    }));
                }
                Ok((span.start, t, span.end))
            }
            Err(()) => {
                let c = self
                    .inner
                    .source()
                    .get(span.start..)
                    .and_then(|s| s.chars().next())
                    .unwrap_or(' ');
                let message = if c == '"' {
                    "unterminated string literal".to_string()
                } else {
                    format!("unexpected character '{}'", c.escape_default())
                };
                Err(LexError {
                    start: span.start,
                    message,
                })
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok<'_>> {
        Lexer::new(src).map(|t| t.unwrap().1).collect()
    }

    #[test]
    fn tensor_dims_and_numbers() {
        assert_eq!(
            toks("tensor<1x784xf32> -2.0e-05 -3 0x7FF0000000000000 -> 0x4xf32"),
            vec![
                Tok::KwTensor,
                Tok::Lt,
                Tok::Dims("1x784x"),
                Tok::KwF32,
                Tok::Gt,
                Tok::Float("-2.0e-05"),
                Tok::Int("-3"),
                Tok::HexInt("0x7FF0000000000000"),
                Tok::Arrow,
                Tok::Dims("0x4x"),
                Tok::KwF32,
            ]
        );
    }

    #[test]
    fn names_and_strings() {
        assert_eq!(
            toks(r#"%0#1 %fc1.out ^bb0 @main !ckks.ct "a\"b" {-# #-} func.func nn.gemm // c"#),
            vec![
                Tok::Value("0#1"),
                Tok::Value("fc1.out"),
                Tok::Block("bb0"),
                Tok::Symbol("main"),
                Tok::DialectType("ckks.ct"),
                Tok::Str(r#"a\"b"#),
                Tok::MetaStart,
                Tok::MetaEnd,
                Tok::KwFunc,
                Tok::Ident("nn.gemm"),
            ]
        );
    }

    #[test]
    fn unterminated_string() {
        let e = Lexer::new("x \"abc\n").nth(1).unwrap().unwrap_err();
        assert_eq!(e.start, 2);
        assert_eq!(e.message, "unterminated string literal");
    }
}
