//! What Telegram refuses in a request, with its exact description: the
//! HTML parse mode's parser (after tdlib's `parse_html`), the length and
//! emptiness of texts, and inline keyboards. The fake Bot API answers 400
//! with these descriptions, as Telegram does.

use serde_json::Value;

/// The longest message text, in UTF-16 code units after entity parsing.
pub const MAX_TEXT: usize = 4096;
/// The longest `answerCallbackQuery` text.
pub const MAX_TAP_ANSWER: usize = 200;
/// The longest `callback_data`, in bytes.
pub const MAX_CALLBACK_DATA: usize = 64;

/// The tags HTML parse mode knows.
const TAGS: [&str; 16] = [
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// The entity at `text[at..]` (which starts with `&`): its character and
/// its length in bytes, as tdlib decodes it; `None` when it is not one.
fn entity(text: &[u8], at: usize) -> Option<(char, usize)> {
    let rest = &text[at + 1..];
    let end = rest.iter().position(|&c| c == b';')?;
    let name = std::str::from_utf8(&rest[..end]).ok()?;
    let code = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
        u32::from_str_radix(hex, 16).ok()?
    } else if let Some(dec) = name.strip_prefix('#') {
        dec.parse::<u32>().ok()?
    } else {
        match name {
            "lt" => '<' as u32,
            "gt" => '>' as u32,
            "amp" => '&' as u32,
            "quot" => '"' as u32,
            _ => return None,
        }
    };
    if code == 0 {
        return None;
    }
    Some((char::from_u32(code)?, end + 2))
}

/// `&` followed by what looks like an entity (`&name;`, `&#..;`): an
/// entity Telegram does not know. The Bot API's documentation asks for
/// every `&` outside an entity to be escaped; such text in the bot's
/// output is unescaped text, and is refused here.
fn looks_like_entity(text: &[u8], at: usize) -> Option<usize> {
    let rest = &text[at + 1..];
    let end = rest
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'#'))?;
    (end > 0 && rest[end] == b';').then_some(end + 2)
}

/// Parses `text` as Telegram's HTML parse mode does; returns the text the
/// person will see (tags removed, entities decoded), or the reason
/// Telegram gives for refusing it (after "can't parse entities: ").
pub fn parse_html(text: &str) -> Result<String, String> {
    let bytes = text.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let mut out = String::new();
    let mut open: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'&' {
            if let Some((ch, len)) = entity(bytes, i) {
                out.push(ch);
                i += len;
                continue;
            }
            if let Some(len) = looks_like_entity(bytes, i) {
                return Err(format!(
                    "Unsupported HTML entity \"{}\" at byte offset {i}",
                    &text[i..i + len]
                ));
            }
        }
        if c != b'<' {
            let ch = text[i..].chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
            continue;
        }
        let begin = i;
        i += 1;
        if at(i) != b'/' {
            while at(i) != 0 && !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if at(i) == 0 {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let tag = text[begin + 1..i].to_ascii_lowercase();
            if !TAGS.contains(&tag.as_str()) {
                return Err(format!(
                    "Unsupported start tag \"{tag}\" at byte offset {begin}"
                ));
            }
            let mut class = None;
            while at(i) != b'>' {
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == b'>' {
                    break;
                }
                let name_start = i;
                while at(i) != 0 && !is_space(at(i)) && at(i) != b'=' && at(i) != b'>' {
                    i += 1;
                }
                let name = &text[name_start..i];
                if name.is_empty() {
                    return Err(format!(
                        "Empty attribute name in the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    if tag == "blockquote" && name == "expandable" {
                        continue;
                    }
                    return Err(format!(
                        "Expected equal sign in declaration of an attribute of the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                i += 1;
                while at(i) != 0 && is_space(at(i)) {
                    i += 1;
                }
                if at(i) == 0 {
                    return Err(format!(
                        "Unclosed start tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                let mut value = String::new();
                if at(i) != b'\'' && at(i) != b'"' {
                    let start = i;
                    while at(i).is_ascii_alphanumeric() || at(i) == b'.' || at(i) == b'-' {
                        i += 1;
                    }
                    value.push_str(&text[start..i]);
                    if value.is_empty() {
                        return Err(format!(
                            "Expected quote in declaration of an attribute of the tag \"{tag}\" at byte offset {begin}"
                        ));
                    }
                } else {
                    let quote = at(i);
                    i += 1;
                    while at(i) != quote && at(i) != 0 {
                        if at(i) == b'&'
                            && let Some((ch, len)) = entity(bytes, i)
                        {
                            value.push(ch);
                            i += len;
                            continue;
                        }
                        let ch = text[i..].chars().next().unwrap();
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                    if at(i) == quote {
                        i += 1;
                    }
                }
                if at(i) == 0 {
                    return Err(format!("Unclosed start tag at byte offset {begin}"));
                }
                if tag == "span" && name == "class" {
                    class = Some(value);
                }
            }
            if tag == "span" && class.as_deref() != Some("tg-spoiler") {
                return Err(format!(
                    "Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"
                ));
            }
            open.push(tag);
            i += 1;
        } else {
            let Some(expected) = open.last().cloned() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            let name_start = i + 1;
            while at(i) != 0 && !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let name = text[name_start..i].to_ascii_lowercase();
            while at(i) != 0 && is_space(at(i)) {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            if !name.is_empty() && name != expected {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{expected}>\", found \"</{name}>\""
                ));
            }
            open.pop();
            i += 1;
        }
    }
    if let Some(tag) = open.last() {
        return Err(format!(
            "Can't find end tag corresponding to start tag \"{tag}\""
        ));
    }
    Ok(out)
}

/// Why Telegram refuses a message text (`parse_mode` as sent), if it does.
pub fn check_text(text: Option<&str>, parse_mode: Option<&str>) -> Result<(), String> {
    let text = text.unwrap_or_default();
    let shown = if parse_mode.is_some_and(|m| m.eq_ignore_ascii_case("html")) {
        parse_html(text).map_err(|e| format!("Bad Request: can't parse entities: {e}"))?
    } else {
        text.to_owned()
    };
    if shown.trim().is_empty() {
        return Err("Bad Request: message text is empty".into());
    }
    if shown.encode_utf16().count() > MAX_TEXT {
        return Err("Bad Request: message is too long".into());
    }
    Ok(())
}

/// Why Telegram refuses a request's inline keyboard, if it does.
pub fn check_keyboard(body: &Value) -> Result<(), String> {
    let Some(rows) = body["reply_markup"]["inline_keyboard"].as_array() else {
        return Ok(());
    };
    for button in rows.iter().filter_map(Value::as_array).flatten() {
        if button["text"].as_str().is_none_or(str::is_empty) {
            return Err("Bad Request: BUTTON_TEXT_INVALID".into());
        }
        if let Some(data) = button.get("callback_data") {
            let len = data.as_str().map_or(0, str::len);
            if !(1..=MAX_CALLBACK_DATA).contains(&len) {
                return Err("Bad Request: BUTTON_DATA_INVALID".into());
            }
        }
    }
    Ok(())
}

/// Why Telegram refuses this call of `method` (lower case), if it does.
pub fn check(method: &str, body: &Value) -> Result<(), String> {
    match method {
        "sendmessage" | "editmessagetext" => {
            check_text(body["text"].as_str(), body["parse_mode"].as_str())?;
            check_keyboard(body)
        }
        "editmessagereplymarkup" => check_keyboard(body),
        "answercallbackquery" => {
            let text = body["text"].as_str().unwrap_or_default();
            if text.encode_utf16().count() > MAX_TAP_ANSWER {
                return Err("Bad Request: MESSAGE_TOO_LONG".into());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(text: &str) -> Result<(), String> {
        check_text(Some(text), Some("HTML"))
    }

    #[test]
    fn accepts_what_telegram_accepts() {
        let accepted = [
            "plain",
            "<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>i</ins>",
            "<s>s</s> <strike>s</strike> <del>d</del> <tg-spoiler>x</tg-spoiler>",
            "<span class=\"tg-spoiler\">x</span>",
            "<a href=\"https://x.example/?a=1&amp;b=2\">link</a>",
            "<pre><code class=\"language-rust\">fn main() {}</code></pre>",
            "<blockquote expandable>q</blockquote> <blockquote>q</blockquote>",
            "<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>",
            "&lt;tag&gt; &amp; &quot;q&quot; &#60; &#x3C; &#128512;",
            "a > b, R&D, & alone",
            "<B>upper</B>",
            "<b>nested <i>fine</i></b>",
            "<b>closed by </>",
        ];
        for text in accepted {
            assert_eq!(html(text), Ok(()), "{text}");
        }
    }

    #[test]
    fn refuses_what_telegram_refuses_with_its_words() {
        let p = "Bad Request: can't parse entities: ";
        let refused = [
            (
                "<foo>x</foo>",
                format!("{p}Unsupported start tag \"foo\" at byte offset 0"),
            ),
            (
                "see <br> here",
                format!("{p}Unsupported start tag \"br\" at byte offset 4"),
            ),
            (
                "x <b>bold",
                format!("{p}Can't find end tag corresponding to start tag \"b\""),
            ),
            (
                "<b><i>x</b></i>",
                format!("{p}Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\""),
            ),
            ("x</b>", format!("{p}Unexpected end tag at byte offset 1")),
            ("a <b", format!("{p}Unclosed start tag at byte offset 2")),
            ("<b>x</b", format!("{p}Unclosed end tag at byte offset 4")),
            (
                "1 &nbsp; 2",
                format!("{p}Unsupported HTML entity \"&nbsp;\" at byte offset 2"),
            ),
            (
                "<span>x</span>",
                format!("{p}Tag \"span\" must have class \"tg-spoiler\" at byte offset 0"),
            ),
            (
                "<a href>x</a>",
                format!(
                    "{p}Expected equal sign in declaration of an attribute of the tag \"a\" at byte offset 0"
                ),
            ),
            ("", "Bad Request: message text is empty".to_owned()),
            (
                "<b> \n </b>",
                "Bad Request: message text is empty".to_owned(),
            ),
        ];
        for (text, description) in refused {
            assert_eq!(html(text), Err(description), "{text}");
        }
    }

    #[test]
    fn counts_length_after_parsing_in_utf16() {
        let tags = format!("<b>{}</b>", "x".repeat(MAX_TEXT));
        assert_eq!(html(&tags), Ok(()));
        let entities = "&amp;".repeat(MAX_TEXT);
        assert_eq!(html(&entities), Ok(()));
        let long = "x".repeat(MAX_TEXT + 1);
        assert_eq!(html(&long), Err("Bad Request: message is too long".into()));
        // An emoji is two code units: 2048 fit, 2049 do not.
        assert_eq!(html(&"😀".repeat(MAX_TEXT / 2)), Ok(()));
        assert_eq!(
            html(&"😀".repeat(MAX_TEXT / 2 + 1)),
            Err("Bad Request: message is too long".into())
        );
        // Plain text counts the same way, with no parsing.
        assert_eq!(
            check_text(Some(&"é".repeat(MAX_TEXT + 1)), None),
            Err("Bad Request: message is too long".into())
        );
        assert_eq!(check_text(Some("<foo>"), None), Ok(()));
        assert_eq!(
            check_text(Some("  "), None),
            Err("Bad Request: message text is empty".into())
        );
    }

    #[test]
    fn keyboards_and_tap_answers() {
        let keyboard = |text: &str, data: &str| serde_json::json!({"text": "t", "reply_markup": {"inline_keyboard": [[{"text": text, "callback_data": data}]]}});
        assert_eq!(check("sendmessage", &keyboard("Approve", "a:1")), Ok(()));
        assert_eq!(
            check("sendmessage", &keyboard("Approve", &"d".repeat(64))),
            Ok(())
        );
        let invalid = Err("Bad Request: BUTTON_DATA_INVALID".to_owned());
        assert_eq!(
            check("sendmessage", &keyboard("A", &"d".repeat(65))),
            invalid
        );
        assert_eq!(check("sendmessage", &keyboard("A", "")), invalid);
        assert_eq!(
            check("editmessagereplymarkup", &keyboard("A", &"é".repeat(33))),
            invalid
        );
        assert_eq!(
            check("editmessagetext", &keyboard("", "a:1")),
            Err("Bad Request: BUTTON_TEXT_INVALID".into())
        );
        let answer =
            |n: usize| serde_json::json!({"callback_query_id": "1", "text": "x".repeat(n)});
        assert_eq!(check("answercallbackquery", &answer(200)), Ok(()));
        assert_eq!(
            check("answercallbackquery", &answer(201)),
            Err("Bad Request: MESSAGE_TOO_LONG".into())
        );
        assert_eq!(
            check(
                "answercallbackquery",
                &serde_json::json!({"callback_query_id": "1"})
            ),
            Ok(())
        );
    }
}
