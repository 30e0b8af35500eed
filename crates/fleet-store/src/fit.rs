//! What a router says is clipped to the columns that hold it, the same for
//! both stores: a router whose version string is longer than any real one
//! must not have its check-in refused by the shared database (strict
//! `sql_mode`, MariaDB's default) and stall every check-in behind it.

use crate::model::Checkin;

/// Widest values the schema holds, in characters (`VARCHAR(n)`).
const VERSION: usize = 64;
const SERIAL: usize = 64;
const BOARD: usize = 255;
const IDENTITY: usize = 255;

/// Marks a clipped value, so a reader knows the router said more.
const CLIPPED: char = '…';

/// `text` cut to at most `max` characters, ending with [`CLIPPED`] when cut.
fn clip(text: &mut String, max: usize) {
    if text.chars().count() <= max {
        return;
    }
    let keep: String = text.chars().take(max - 1).collect();
    *text = keep;
    text.push(CLIPPED);
}

/// A check-in whose strings fit their columns.
pub(crate) fn checkin(mut c: Checkin) -> Checkin {
    clip(&mut c.version, VERSION);
    clip(&mut c.board_name, BOARD);
    clip(&mut c.identity, IDENTITY);
    if let Some(serial) = &mut c.serial {
        clip(serial, SERIAL);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_by_characters_and_marked() {
        let mut s = "é".repeat(70);
        clip(&mut s, 64);
        assert_eq!(s.chars().count(), 64);
        assert!(s.ends_with(CLIPPED));
        let mut short = "7.16.2 (stable)".to_owned();
        clip(&mut short, 64);
        assert_eq!(short, "7.16.2 (stable)");
    }
}
