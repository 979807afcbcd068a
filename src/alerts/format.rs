//! Small helpers for the text the bot writes: HTML escaping for Telegram,
//! times and durations a person reads at a glance.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

/// The longest message text Telegram takes: 4096 UTF-16 code units of
/// what the reader sees (tags removed, entities decoded).
pub const MAX_MESSAGE: usize = 4096;

/// The longest answer to a button tap Telegram takes, counted the same way.
pub const MAX_TAP_ANSWER: usize = 200;

/// Escapes text for Telegram's HTML parse mode.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A link, both parts escaped.
pub fn link(url: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", escape(url), escape(text))
}

/// A duration as a person says it: `45s`, `12m`, `3h 5m`, `2d 4h`.
pub fn span(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => match (s / 3600, (s % 3600) / 60) {
            (h, 0) => format!("{h}h"),
            (h, m) => format!("{h}h {m}m"),
        },
        _ => match (s / 86400, (s % 86400) / 3600) {
            (d, 0) => format!("{d}d"),
            (d, h) => format!("{d}d {h}h"),
        },
    }
}

/// `3h 5m ago`, relative to `now`.
pub fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    format!("{} ago", span((now - at).num_seconds()))
}

/// `2026-11-25 10:41 UTC`.
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Unix milliseconds as a time.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Cuts text to at most `max` characters, marking the cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

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

/// Splits the bot's own HTML (escaped by [`escape`], tags well nested)
/// into pieces.
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

/// Fits the bot's HTML into one Telegram message of at most `max` code
/// units as the reader sees them: a longer text is cut on a character
/// boundary (never inside a tag or an entity), marked `…`, and the tags
/// still open there are closed. The one place every message and edit goes
/// through, so a long changelog or history can never be refused.
pub fn fit(html: &str, max: usize) -> Cow<'_, str> {
    let shown: usize = pieces(html)
        .map(|p| match p {
            Piece::Shown(_, units) => units,
            _ => 0,
        })
        .sum();
    if shown <= max {
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
    fn escapes_html() {
        assert_eq!(
            escape("<b>&\"x\"</b>"),
            "&lt;b&gt;&amp;&quot;x&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn spans_read_naturally() {
        let cases = [
            (-5, "0s"),
            (45, "45s"),
            (60, "1m"),
            (3599, "59m"),
            (3600, "1h"),
            (3660, "1h 1m"),
            (86400, "1d"),
            (90000, "1d 1h"),
        ];
        for (s, text) in cases {
            assert_eq!(span(s), text, "{s}");
        }
    }

    #[test]
    fn clip_marks_the_cut() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }

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
