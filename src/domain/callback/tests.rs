use proptest::prelude::*;

use super::*;

fn op(id: i64) -> OperationId {
    OperationId(id)
}

#[test]
fn accepted_inputs() {
    let table: Vec<(&str, Callback)> = vec![
        (
            "d:12:a",
            Callback::Decide {
                op: op(12),
                vote: Vote::Approve,
            },
        ),
        (
            "v:12:161171787:a",
            Callback::Gate {
                op: op(12),
                environment: 161_171_787,
                approve: true,
            },
        ),
        (
            "v:12:0:r",
            Callback::Gate {
                op: op(12),
                environment: 0,
                approve: false,
            },
        ),
        (
            "d:12:c",
            Callback::Decide {
                op: op(12),
                vote: Vote::ConfirmApprove,
            },
        ),
        (
            "d:12:r",
            Callback::Decide {
                op: op(12),
                vote: Vote::Reject,
            },
        ),
        (
            "q:3:v",
            Callback::Qa {
                op: op(3),
                verdict: QaVerdict::Verified,
            },
        ),
        (
            "q:3:i",
            Callback::Qa {
                op: op(3),
                verdict: QaVerdict::FoundIssues,
            },
        ),
        (
            "r:7:y",
            Callback::ReleaseAnyway {
                op: op(7),
                go: true,
            },
        ),
        (
            "r:7:n",
            Callback::ReleaseAnyway {
                op: op(7),
                go: false,
            },
        ),
        ("e:9:y", Callback::DirectRollback { op: op(9) }),
        ("c:4:0", Callback::Tick { op: op(4), item: 0 }),
        ("c:4:7", Callback::Tick { op: op(4), item: 7 }),
        ("c:4:9", Callback::Tick { op: op(4), item: 9 }),
        ("i:9:o", Callback::IncidentReport { op: op(9) }),
    ];
    for (data, expected) in table {
        assert_eq!(Callback::parse(data), Some(expected), "{data:?}");
    }
}

#[test]
fn accepted_alert_inputs() {
    let table: Vec<(&str, Callback)> = vec![
        (
            "b:5:r",
            Callback::Alert {
                op: op(5),
                act: AlertAct::RollBack,
            },
        ),
        (
            "b:5:l",
            Callback::Alert {
                op: op(5),
                act: AlertAct::Lock,
            },
        ),
        (
            "b:5:a",
            Callback::Alert {
                op: op(5),
                act: AlertAct::Acknowledge,
            },
        ),
        (
            "h:2:r",
            Callback::Health {
                env: 2,
                act: AlertAct::RollBack,
            },
        ),
        (
            "h:0:l",
            Callback::Health {
                env: 0,
                act: AlertAct::Lock,
            },
        ),
        (
            "h:10:a",
            Callback::Health {
                env: 10,
                act: AlertAct::Acknowledge,
            },
        ),
        (
            "g:42:1",
            Callback::Guide {
                nonce: 42,
                pick: GuidePick::Index(1),
            },
        ),
        (
            "g:42:99",
            Callback::Guide {
                nonce: 42,
                pick: GuidePick::Index(99),
            },
        ),
        (
            "g:42:y",
            Callback::Guide {
                nonce: 42,
                pick: GuidePick::Confirm,
            },
        ),
        (
            "g:42:x",
            Callback::Guide {
                nonce: 42,
                pick: GuidePick::Cancel,
            },
        ),
        (
            "g:0:0",
            Callback::Guide {
                nonce: 0,
                pick: GuidePick::Index(0),
            },
        ),
        (
            "d:999999999999999999:r",
            Callback::Decide {
                op: op(999_999_999_999_999_999),
                vote: Vote::Reject,
            },
        ),
        (
            "d:0012:a",
            Callback::Decide {
                op: op(12),
                vote: Vote::Approve,
            },
        ),
    ];
    for (data, expected) in table {
        assert_eq!(Callback::parse(data), Some(expected), "{data:?}");
    }
}

#[test]
fn rejected_inputs() {
    for forged in [
        "",
        "d",
        "d:12",
        "d:12:x",
        "d:-1:a",
        "d::a",
        "d:+1:a",
        "x:12:a",
        "d:12:a:b",
        "v:12:a",
        "v:12:7:x",
        "v:12:07:a",
        "v::7:a",
        "v:12:7:a:b",
        "v:12:99999999999999999999:a",
        "d:1e3:a",
        "d:99999999999999999999:a",
        "d:1234567890123456789:a",
        "q:3:y",
        "r:7:a",
        "e:9:n",
        "i:9:y",
        "c:4:",
        "c:4:10",
        "c:4:a",
        "c:4:-1",
        "c::1",
        "c:4:1:2",
        "b:5:y",
        "h:2:y",
        "h:02:r",
        "h:100:r",
        "h::r",
        "h:-1:r",
        "b::a",
        "b:5",
        "D:12:a",
        " d:12:a",
        "g:42",
        "g:42:1:2",
        "g::1",
        "g:x:1",
        "g:42:999",
        "g:42:-1",
        "g:99999999999:1",
        "g:42:Y",
        "deploy prod 1.3.0",
    ] {
        assert_eq!(Callback::parse(forged), None, "{forged:?}");
    }
}

#[test]
fn a_new_operation_is_written_for_the_store_to_fill_in() {
    let approve = Callback::Decide {
        op: NewOp,
        vote: Vote::Approve,
    };
    assert_eq!(approve.encode(), "d:{op}:a");
    assert_eq!(
        Callback::ReleaseAnyway {
            op: NewOp,
            go: false
        }
        .encode(),
        "r:{op}:n"
    );
    assert_eq!(Callback::parse(&approve.encode()), None);
    assert_eq!(Callback::Tick { op: NewOp, item: 2 }.encode(), "c:{op}:2");
}

#[test]
fn unread_data_is_audited_by_the_family_it_claims() {
    for (data, verb) in [
        ("e:x:y", "direct"),
        ("i:", "report"),
        ("c:4:x", "tick"),
        ("b:x:r", "alert"),
        ("g:1:zz", "guide"),
        ("v:1:01:a", "gate"),
        ("d:1:x", "unknown"),
        ("", "unknown"),
    ] {
        assert_eq!(unread_verb(data), verb, "{data:?}");
    }
}

fn any_callback() -> impl Strategy<Value = Callback> {
    let op = (0..=999_999_999_999_999_999i64).prop_map(OperationId);
    let pick = prop_oneof![
        (0usize..100).prop_map(GuidePick::Index),
        Just(GuidePick::Confirm),
        Just(GuidePick::Cancel),
    ];
    let vote = prop_oneof![
        Just(Vote::Approve),
        Just(Vote::ConfirmApprove),
        Just(Vote::Reject)
    ];
    let verdict = prop_oneof![Just(QaVerdict::Verified), Just(QaVerdict::FoundIssues)];
    let act = prop_oneof![
        Just(AlertAct::RollBack),
        Just(AlertAct::Lock),
        Just(AlertAct::Acknowledge)
    ];
    prop_oneof![
        (op.clone(), act.clone()).prop_map(|(op, act)| Callback::Alert { op, act }),
        (0usize..100, act).prop_map(|(env, act)| Callback::Health { env, act }),
        (op.clone(), vote).prop_map(|(op, vote)| Callback::Decide { op, vote }),
        (op.clone(), verdict).prop_map(|(op, verdict)| Callback::Qa { op, verdict }),
        (op.clone(), any::<bool>()).prop_map(|(op, go)| Callback::ReleaseAnyway { op, go }),
        (op.clone(), 0u8..10).prop_map(|(op, item)| Callback::Tick { op, item }),
        op.clone().prop_map(|op| Callback::DirectRollback { op }),
        op.clone().prop_map(|op| Callback::IncidentReport { op }),
        (op, any::<u64>(), any::<bool>()).prop_map(|(op, environment, approve)| Callback::Gate {
            op,
            environment,
            approve
        }),
        (any::<u32>(), pick).prop_map(|(nonce, pick)| Callback::Guide { nonce, pick }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    /// Every button the bot writes reads back as itself and fits
    /// Telegram's 64 bytes of `callback_data`.
    #[test]
    fn every_button_round_trips_within_64_bytes(callback in any_callback()) {
        let data = callback.encode();
        prop_assert!(data.len() <= 64, "{} is {} bytes", data, data.len());
        prop_assert_eq!(Callback::parse(&data), Some(callback));
    }

    /// Forged data never panics, and what is accepted is exactly the
    /// shape the bot writes: a kind, a number, an action.
    #[test]
    fn only_well_formed_data_is_read(data in "\\PC{0,80}") {
        if let Some(callback) = Callback::parse(&data) {
            let parts: Vec<&str> = data.split(':').collect();
            // A gate's review names the environment too.
            let fields = if matches!(callback, Callback::Gate { .. }) { 4 } else { 3 };
            prop_assert_eq!(parts.len(), fields);
            prop_assert_eq!(parts[0], &callback.encode()[..1]);
            prop_assert!(data.len() <= 64);
        }
    }

    /// Near misses of real data are read only when exactly right.
    #[test]
    fn near_misses_are_refused(
        kind in "[a-z]", id in "[0-9-]{0,20}", action in "[a-z0-9]{0,2}", extra in "(:[a-z0-9]{0,3})?",
    ) {
        let data = format!("{kind}:{id}:{action}{extra}");
        let digit = action.len() == 1 && action.as_bytes()[0].is_ascii_digit();
        let ok = ["d", "q", "r", "e", "i", "b", "c"].contains(&kind.as_str())
            && !id.is_empty()
            && id.len() <= 18
            && id.bytes().all(|b| b.is_ascii_digit())
            && extra.is_empty()
            && (matches!(
                (kind.as_str(), action.as_str()),
                ("d", "a" | "c" | "r") | ("q", "v" | "i") | ("r", "y" | "n") | ("e", "y") | ("i", "o")
                    | ("b", "r" | "l" | "a")
            ) || (kind == "c" && digit));
        let ok = ok
            || (kind == "h"
                && extra.is_empty()
                && !id.is_empty()
                && id.len() <= 2
                && (id == "0" || !id.starts_with('0'))
                && id.bytes().all(|b| b.is_ascii_digit())
                && matches!(action.as_str(), "r" | "l" | "a"))
            || (kind == "g"
                && extra.is_empty()
                && id.parse::<u32>().is_ok()
                && (matches!(action.as_str(), "y" | "x")
                    || (!action.is_empty() && action.bytes().all(|b| b.is_ascii_digit()))));
        let ok = ok
            || (kind == "v"
                && !id.is_empty()
                && id.len() <= 18
                && id.bytes().all(|b| b.is_ascii_digit())
                && !action.is_empty()
                && (action == "0" || !action.starts_with('0'))
                && action.bytes().all(|b| b.is_ascii_digit())
                && matches!(extra.as_str(), ":a" | ":r"));
        prop_assert_eq!(Callback::parse(&data).is_some(), ok, "{}", data);
    }
}
