//! RouterOS value types: everything arrives as text. By kind: durations,
//! booleans and numbers; dates and times; character sets.

mod codepage;
mod scalar;
mod time;

pub use codepage::*;
pub use scalar::*;
pub use time::*;
