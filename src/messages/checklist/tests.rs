use super::*;
use crate::adapters::fit::{MAX_MESSAGE, shown};
use crate::domain::{ReleaseType, Version};

const CHECKS: &str = "✅ CI: main is green\n✅ New version: 1.3.0 is newer than 1.2.3\n\
                      ✅ Fits the bump: 1.2.3 + minor = 1.3.0";

/// Release notes as GitHub generates them.
const GENERATED: &str = "<!-- Release notes generated using configuration in .github/release.yml at main -->\n\n\
## What's Changed\n### Features\n* Release checklist by @ann in https://github.com/o/r/pull/12\n\
* `{op}` & <b>tags</b> stay text by @bob in https://github.com/o/r/pull/13\n\n\
## New Contributors\n* @bob made their first contribution in https://github.com/o/r/pull/13\n\n\
**Full Changelog**: https://github.com/o/r/compare/v1.2.3...v1.3.0";

fn v() -> Version {
    Version::parse("1.3.0", true).unwrap()
}

fn generated(markdown: &str) -> Notes<'_> {
    Notes::Generated {
        markdown,
        since: Some("v1.2.3"),
        all_changes: Some("https://github.com/o/r/compare/v1.2.3...v1.3.0"),
    }
}

#[test]
fn prompt() {
    insta::assert_snapshot!(super::prompt(
        &v(),
        ReleaseType::Minor,
        CHECKS,
        &generated(GENERATED),
        false
    ));
}

#[test]
fn prompt_when_the_bump_does_not_fit() {
    insta::assert_snapshot!(super::prompt(
        &v(),
        ReleaseType::Minor,
        CHECKS,
        &generated("* One change"),
        true
    ));
}

#[test]
fn prompt_without_notes() {
    insta::assert_snapshot!(format!(
        "{}\n\n{}",
        super::prompt(
            &v(),
            ReleaseType::Major,
            CHECKS,
            &Notes::Unavailable("GitHub answered 502: Bad <Gateway>"),
            false
        ),
        super::prompt(
            &v(),
            ReleaseType::Patch,
            CHECKS,
            &generated("<!-- nothing -->"),
            false
        )
    ));
}

#[test]
fn long_notes_are_cut_with_a_link_to_all_changes() {
    let long = "* A change that says a lot about itself 😀 &\n".repeat(400);
    let text = super::prompt(&v(), ReleaseType::Minor, CHECKS, &generated(&long), false);
    assert!(shown(&text) <= MAX_MESSAGE, "{}", shown(&text));
    assert!(shown(&text) <= NOTES_MAX + 400, "{}", shown(&text));
    assert!(
        text.contains(
            "…\n<a href=\"https://github.com/o/r/compare/v1.2.3...v1.3.0\">All changes</a>\n\n☑️"
        ),
        "{text}"
    );
    // Even beside checks that fill most of a message.
    let checks = "✅ x".repeat(1200);
    let text = super::prompt(&v(), ReleaseType::Minor, &checks, &generated(&long), false);
    assert!(shown(&text) + 19 <= MAX_MESSAGE, "{}", shown(&text));
}

#[test]
fn notes_html_escapes_and_keeps_only_telegram_tags() {
    insta::assert_snapshot!(super::notes_html(
        "# Title <script>\n\nSome *emphasis* and **strong** text, `code <b>`, \
         [a link](https://x.example/?a=1&b=2), [no link](javascript:alert(1)), \
         ![an image](https://x.example/i.png)\n\n<details>raw html</details>\n\n\
         - one\n- two\n  - nested\n\n```\nblock <i>\n```\n"
    ));
}

#[test]
fn item_labels() {
    insta::assert_snapshot!(format!(
        "{}\n{}",
        super::item_label("Documentation updated", false),
        super::item_label("Documentation updated", true)
    ));
}

#[test]
fn checked() {
    insta::assert_snapshot!(super::checked(
        "1.3.0",
        Some(ReleaseType::Minor),
        5,
        "Ann <b>&",
        &["Documentation updated".into(), "Deps <reviewed>".into()]
    ));
}

#[test]
fn checked_but_refused() {
    insta::assert_snapshot!(super::checked_but_refused(
        "1.3.0",
        None,
        5,
        "Ann",
        "❌ CI: main is not green: failing: e2e"
    ));
}

#[test]
fn tap_answers() {
    insta::assert_snapshot!(
        [
            super::ticked_answer(1),
            super::ticked_answer(2),
            super::all_ticked_answer(),
            super::confirm_after_ticks(),
            super::already_ticked(),
            super::checklist_closed(),
            super::tick_first(1),
            super::tick_first(3),
        ]
        .join("\n")
    );
}

#[test]
fn release_ticks() {
    insta::assert_snapshot!(super::release_ticks(&[
        ("Documentation updated".into(), "Ann".into()),
        ("Deps <b>&".into(), "Bob <i>".into())
    ]));
}

#[test]
fn dry_run_asks() {
    insta::assert_snapshot!(super::dry_run_asks(&[
        "Documentation updated".into(),
        "Deps <b>".into()
    ]));
}
