//! Telegram's limits on what the bot writes: every message and edit is
//! fitted to one message's length, every tap answer to its own, as
//! Telegram counts them (UTF-16 code units of the text the reader sees).
//! Pure: the adapter applies it to everything it sends.

use std::borrow::Cow;

/// The longest message text Telegram takes: 4096 UTF-16 code units of
/// what the reader sees (tags removed, entities decoded).
pub const MAX_MESSAGE: usize = 4096;

/// The longest answer to a button tap Telegram takes, counted the same way.
pub const MAX_TAP_ANSWER: usize = 200;

/// Cuts plain text to at most `max` UTF-16 code units (as Telegram
/// counts), on a character boundary, marking the cut.
pub fn clip_units(text: &str, max: usize) -> Cow<'_, str> {
    if text.encode_utf16().count() <= max {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    Cow::Owned(out)
}

/// One piece of the bot's HTML: a tag, an entity, or a character the
/// reader sees.
enum Piece<'a> {
    Open(&'a str, &'a str),
    Close(&'a str),
    Shown(&'a str, usize),
}

/// Splits the bot's own HTML (text escaped by
/// [`crate::alerts::format::escape`], tags well nested) into pieces.
fn pieces(html: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = html;
    std::iter::from_fn(move || {
        let c = rest.chars().next()?;
        let len = match c {
            '<' => rest.find('>').map_or(rest.len(), |end| end + 1),
            '&' => rest
                .find(';')
                .filter(|&end| end <= 10)
                .map_or(1, |end| end + 1),
            _ => c.len_utf8(),
        };
        let (piece, tail) = rest.split_at(len);
        rest = tail;
        Some(match c {
            '<' if piece.starts_with("</") => Piece::Close(piece),
            '<' => {
                let name_end = piece[1..]
                    .find(|c: char| c.is_whitespace() || c == '>')
                    .map_or(piece.len(), |end| end + 1);
                Piece::Open(piece, &piece[1..name_end])
            }
            // An entity the reader sees as one character (two for a
            // numeric one beyond the Basic Multilingual Plane).
            '&' if piece.len() > 1 => {
                let code = piece
                    .strip_prefix("&#x")
                    .map(|h| u32::from_str_radix(&h[..h.len() - 1], 16))
                    .or_else(|| piece.strip_prefix("&#").map(|d| d[..d.len() - 1].parse()))
                    .and_then(Result::ok);
                Piece::Shown(
                    piece,
                    if code.is_some_and(|c| c > 0xFFFF) {
                        2
                    } else {
                        1
                    },
                )
            }
            _ => Piece::Shown(piece, c.len_utf16()),
        })
    })
}

/// How many UTF-16 code units of the bot's HTML the reader sees (tags
/// removed, entities decoded), as Telegram counts a message's length.
pub fn shown(html: &str) -> usize {
    pieces(html)
        .map(|p| match p {
            Piece::Shown(_, units) => units,
            _ => 0,
        })
        .sum()
}

/// Fits the bot's HTML into one Telegram message of at most `max` code
/// units as the reader sees them: a longer text is cut on a character
/// boundary (never inside a tag or an entity), marked `…`, and the tags
/// still open there are closed. The one place every message and edit goes
/// through, so a long changelog or history can never be refused.
pub fn fit(html: &str, max: usize) -> Cow<'_, str> {
    if shown(html) <= max {
        return Cow::Borrowed(html);
    }
    let budget = max.saturating_sub(1);
    let mut out = String::with_capacity(html.len().min(max * 4));
    let mut open: Vec<&str> = Vec::new();
    let mut used = 0;
    for piece in pieces(html) {
        match piece {
            Piece::Open(tag, name) => {
                out.push_str(tag);
                open.push(name);
            }
            Piece::Close(tag) => {
                out.push_str(tag);
                open.pop();
            }
            Piece::Shown(text, units) => {
                if used + units > budget {
                    break;
                }
                used += units;
                out.push_str(text);
            }
        }
    }
    out.push('…');
    for name in open.iter().rev() {
        out.push_str(&format!("</{name}>"));
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_leaves_short_text_alone() {
        let html = "<b>Deploy</b> 1.2.3 &amp; more";
        assert!(matches!(fit(html, 20), Cow::Borrowed(_)));
        // Tags and entities do not count: 20 characters are shown.
        assert_eq!(fit(html, 20), html);
    }

    #[test]
    fn fit_cuts_between_characters_and_closes_open_tags() {
        let html = "<b>abc <i>defgh</i></b> tail";
        assert_eq!(fit(html, 8), "<b>abc <i>def…</i></b>");
        // Never inside an entity: &amp; is one character.
        assert_eq!(fit("a&amp;b&lt;cdef", 4), "a&amp;b…");
        assert_eq!(
            fit("<a href=\"https://x/?a&amp;b\">link text</a>", 4),
            "<a href=\"https://x/?a&amp;b\">lin…</a>"
        );
        // Counted as Telegram counts, in UTF-16 code units: an emoji is
        // two, and is never split.
        assert_eq!(fit("😀😀😀", 4), "😀…");
        assert_eq!(fit("&#128512;&#128512;&#128512;", 4), "&#128512;…");
    }

    #[test]
    fn fit_keeps_a_long_message_within_telegram_limit() {
        let line = "<b>#12</b> deploy 1.2.3 → prod · ✅ · asked by Ünïcødé 😀 &amp; co\n";
        let html = line.repeat(200);
        let fitted = fit(&html, MAX_MESSAGE);
        let shown: usize = pieces(&fitted)
            .map(|p| match p {
                Piece::Shown(_, units) => units,
                _ => 0,
            })
            .sum();
        assert!((MAX_MESSAGE - 1..=MAX_MESSAGE).contains(&shown), "{shown}");
        assert!(fitted.ends_with('…') || fitted.ends_with("…</b>"));
        assert_eq!(
            fitted.matches("<b>").count(),
            fitted.matches("</b>").count()
        );
    }

    #[test]
    fn clip_units_counts_as_telegram_does() {
        assert_eq!(clip_units("abc", 3), "abc");
        assert_eq!(clip_units("abcd", 3), "ab…");
        assert_eq!(clip_units("😀😀", 3), "😀…");
        assert_eq!(
            clip_units(&"😀".repeat(150), 200).encode_utf16().count(),
            199
        );
    }
}
