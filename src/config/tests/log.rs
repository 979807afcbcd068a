//! `[log]`: the format of the log lines.

use super::*;

#[test]
fn the_log_is_text_unless_json_is_asked_for() {
    assert_eq!(parse(SHIPPED).unwrap().log.format, LogFormat::Text);
    let json = parse(&format!("{SHIPPED}\n[log]\nformat = \"json\"\n")).unwrap();
    assert_eq!(json.log.format, LogFormat::Json);
}

#[test]
fn a_log_format_or_key_unknown_is_named_with_its_path() {
    let message = error(&format!("{SHIPPED}\n[log]\nformat = \"xml\"\n"));
    assert!(
        message
            .starts_with("bot.toml: log.format: unknown variant `xml`, expected `text` or `json`"),
        "{message}"
    );
    let message = error(&format!("{SHIPPED}\n[log]\nformt = \"json\"\n"));
    assert!(
        message.starts_with("bot.toml: log.formt: unknown field `formt`"),
        "{message}"
    );
}
