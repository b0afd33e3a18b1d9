use super::plan::{Action, Busy, Catch, Due, LATE_MS, catch_up, on_fire, should_pause};
use super::schedule::{Schedule, jitter};
use super::*;
use crate::domain::run::RunStatus;
use chrono::{TimeZone, Utc};

fn utc_ms(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> i64 {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .timestamp_millis()
}

fn cron(p: &str, tz: &str) -> Schedule {
    Schedule::new(&ScheduleSpec {
        when: When::Cron(p.into()),
        time_zone: tz.into(),
        input: Value::Null,
        mapping: None,
        overlap: Overlap::Skip,
        catch_up: CatchUp::Latest,
        jitter_ms: 0,
        pause_after_failures: None,
    })
    .unwrap()
}

fn locals(s: &Schedule, after: i64, n: usize) -> Vec<String> {
    s.next_n(after, n).into_iter().map(|t| s.local(t)).collect()
}

#[test]
fn weekday_mornings_in_berlin_fire_at_seven_local_time_in_winter_and_summer() {
    let s = cron("0 7 * * MON-FRI", "Europe/Berlin");
    // Friday 2026-03-27 08:00 UTC (09:00 CET): next is Monday after the change
    let fires = locals(&s, utc_ms(2026, 3, 27, 8, 0), 2);
    assert_eq!(
        fires,
        ["2026-03-30T07:00:00+02:00", "2026-03-31T07:00:00+02:00"]
    );
    let fires = locals(&s, utc_ms(2026, 1, 2, 12, 0), 1);
    assert_eq!(fires, ["2026-01-05T07:00:00+01:00"]);
}

#[test]
fn a_time_skipped_in_spring_fires_once_at_the_end_of_the_gap() {
    // Berlin: 2026-03-29 02:00 CET -> 03:00 CEST; 02:30 does not exist
    let s = cron("30 2 * * *", "Europe/Berlin");
    let fires = locals(&s, utc_ms(2026, 3, 28, 12, 0), 3);
    assert_eq!(
        fires,
        [
            "2026-03-29T03:00:00+02:00",
            "2026-03-30T02:30:00+02:00",
            "2026-03-31T02:30:00+02:00"
        ]
    );
    // every quarter hour: the four inside the gap fire once, together
    let s = cron("*/15 * * * *", "Europe/Berlin");
    let fires = locals(&s, utc_ms(2026, 3, 29, 0, 30), 4); // 01:30 CET
    assert_eq!(
        fires,
        [
            "2026-03-29T01:45:00+01:00",
            "2026-03-29T03:00:00+02:00",
            "2026-03-29T03:15:00+02:00",
            "2026-03-29T03:30:00+02:00"
        ]
    );
    // New York: 2026-03-08 02:00 EST -> 03:00 EDT
    let s = cron("30 2 * * *", "America/New_York");
    let fires = locals(&s, utc_ms(2026, 3, 7, 12, 0), 2);
    assert_eq!(
        fires,
        ["2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"]
    );
}

#[test]
fn a_time_repeated_in_autumn_fires_once_at_its_first_occurrence() {
    // Berlin: 2026-10-25 03:00 CEST -> 02:00 CET; 02:30 happens twice
    let s = cron("30 2 * * *", "Europe/Berlin");
    let fires = locals(&s, utc_ms(2026, 10, 24, 12, 0), 2);
    assert_eq!(
        fires,
        ["2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"]
    );
    // asked from inside the second pass, it does not fire again that day
    let second_pass = utc_ms(2026, 10, 25, 1, 10); // 02:10 CET
    assert_eq!(locals(&s, second_pass, 1), ["2026-10-26T02:30:00+01:00"]);
    // hourly: 02:00 once, then 03:00 (an hour and a bit later in real time)
    let s = cron("0 * * * *", "America/New_York");
    let fires = locals(&s, utc_ms(2026, 11, 1, 4, 30), 3); // 00:30 EDT
    assert_eq!(
        fires,
        [
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T03:00:00-05:00"
        ]
    );
}

#[test]
fn intervals_count_real_time_from_the_epoch_across_clock_changes() {
    let s = Schedule::new(&ScheduleSpec {
        when: When::EveryMs(3_600_000),
        time_zone: "Europe/Berlin".into(),
        ..serde_json::from_value(serde_json::json!({"when": {"every_ms": 1000}})).unwrap()
    })
    .unwrap();
    let start = utc_ms(2026, 10, 24, 23, 30);
    let fires = s.next_n(start, 4);
    assert_eq!(fires[0], utc_ms(2026, 10, 25, 0, 0));
    assert!(fires.windows(2).all(|w| w[1] - w[0] == 3_600_000));
    // a fire exactly at `after` is not after it
    assert_eq!(s.next_after(fires[0]), Some(fires[1]));
}

#[test]
fn six_field_patterns_fire_on_seconds_and_bad_patterns_say_what_to_fix() {
    let s = cron("*/10 * * * * *", "UTC");
    let t = utc_ms(2026, 1, 1, 0, 0);
    assert_eq!(s.next_n(t, 2), vec![t + 10_000, t + 20_000]);
    let bad = |p: &str, tz: &str| {
        Schedule::new(&ScheduleSpec {
            when: When::Cron(p.into()),
            time_zone: tz.into(),
            ..serde_json::from_value(serde_json::json!({"when": {"every_ms": 1000}})).unwrap()
        })
        .unwrap_err()
    };
    assert!(
        bad("0 7 * *", "UTC").contains("needs 5 fields"),
        "{}",
        bad("0 7 * *", "UTC")
    );
    assert!(bad("61 * * * *", "UTC").contains("when.cron '61 * * * *'"));
    assert!(bad("0 7 * * *", "Mars/Olympus").contains("not an IANA time zone"));
    assert!(bad(&"* ".repeat(500), "UTC").contains("needs 5 fields"));
}

#[test]
fn a_pattern_that_never_matches_has_no_next_fire() {
    let s = cron("0 0 30 2 *", "UTC");
    assert_eq!(s.next_after(utc_ms(2026, 1, 1, 0, 0)), None);
}

#[test]
fn jitter_is_stable_and_stays_before_the_next_nominal_time() {
    let a = jitter("trg_a", 1_000_000, Some(1_060_000), 3_600_000);
    assert_eq!(a, jitter("trg_a", 1_000_000, Some(1_060_000), 3_600_000));
    assert!((0..60_000).contains(&a), "{a}");
    for n in 0..500 {
        let nominal = n * 60_000;
        let j = jitter("trg_b", nominal, Some(nominal + 60_000), 3_600_000);
        assert!((0..60_000).contains(&j));
        assert!(jitter("trg_b", nominal, None, 5_000) <= 5_000);
    }
    assert_eq!(jitter("trg_a", 5, Some(10), 0), 0);
}

fn due(nominals: &[i64]) -> Vec<Due> {
    nominals
        .iter()
        .map(|&n| Due {
            nominal: n,
            fire_at: n,
        })
        .collect()
}

#[test]
fn catch_up_none_latest_and_all_after_downtime() {
    let now = 10 * 3_600_000;
    // hourly fires at 1h..10h; the server was down from 0h to now
    let d = due(&(1..=10).map(|h| h * 3_600_000).collect::<Vec<_>>());
    let none = catch_up(CatchUp::None, &d, now);
    assert_eq!(none[9], Catch::Fire, "the one due now is on time");
    assert!(
        none[..9]
            .iter()
            .all(|c| matches!(c, Catch::Missed(m) if m.contains("catch-up: none")))
    );
    // latest: only the newest late one, and only if none is on time
    let late = &d[..9];
    let latest = catch_up(CatchUp::Latest, late, now);
    assert_eq!(latest[8], Catch::Fire);
    assert!(latest[..8].iter().all(|c| matches!(c, Catch::Missed(_))));
    let latest = catch_up(CatchUp::Latest, &d, now);
    assert!(latest[..9].iter().all(|c| matches!(c, Catch::Missed(_))));
    // all within 3 hours: 7h, 8h, 9h in turn, 10h on time
    let all = catch_up(
        CatchUp::All {
            window_ms: 3 * 3_600_000,
        },
        &d,
        now,
    );
    assert!(
        all[..6]
            .iter()
            .all(|c| matches!(c, Catch::Missed(m) if m.contains("window")))
    );
    assert_eq!(
        all[6..9],
        [Catch::FireInTurn, Catch::FireInTurn, Catch::FireInTurn]
    );
    assert_eq!(all[9], Catch::Fire);
    // slow by less than LATE_MS is not late
    assert_eq!(
        catch_up(CatchUp::None, &due(&[now - LATE_MS]), now),
        [Catch::Fire]
    );
}

#[test]
fn every_overlap_policy_decides_a_fire_while_a_run_is_going() {
    let busy = || Busy {
        running: 1,
        queued: 0,
    };
    let mut b = busy();
    assert!(
        matches!(on_fire(Overlap::Skip, &Catch::Fire, &mut b), Action::Skip(m) if m.contains("still going"))
    );
    let mut b = busy();
    assert_eq!(
        on_fire(Overlap::BufferOne, &Catch::Fire, &mut b),
        Action::Queue
    );
    assert!(
        matches!(on_fire(Overlap::BufferOne, &Catch::Fire, &mut b), Action::Skip(m) if m.contains("already waiting"))
    );
    let mut b = busy();
    assert_eq!(
        on_fire(Overlap::AllowAll, &Catch::Fire, &mut b),
        Action::Start
    );
    assert_eq!(b.running, 2);
    let mut b = busy();
    assert_eq!(
        on_fire(Overlap::CancelOther, &Catch::Fire, &mut b),
        Action::CancelOthersThenStart
    );
    assert_eq!(
        b,
        Busy {
            running: 1,
            queued: 0
        }
    );
    // idle: every policy starts
    for p in [
        Overlap::Skip,
        Overlap::BufferOne,
        Overlap::AllowAll,
        Overlap::CancelOther,
    ] {
        assert_eq!(
            on_fire(p, &Catch::Fire, &mut Busy::default()),
            Action::Start
        );
    }
}

#[test]
fn catching_up_all_runs_fires_one_after_another() {
    let mut b = Busy::default();
    let acts: Vec<_> = (0..3)
        .map(|_| on_fire(Overlap::Skip, &Catch::FireInTurn, &mut b))
        .collect();
    assert_eq!(acts, [Action::Start, Action::Queue, Action::Queue]);
    // an on-time fire behind queued ones waits its turn too, if idle
    let mut b = Busy {
        running: 0,
        queued: 2,
    };
    assert_eq!(on_fire(Overlap::Skip, &Catch::Fire, &mut b), Action::Queue);
}

#[test]
fn a_schedule_pauses_after_n_failed_runs_in_a_row() {
    use RunStatus::*;
    assert!(should_pause(Some(2), &[Failed, Failed, Succeeded]));
    assert!(!should_pause(Some(2), &[Failed, Succeeded, Failed]));
    assert!(!should_pause(Some(3), &[Failed, Failed]));
    assert!(!should_pause(None, &[Failed; 10]));
}

#[test]
fn trigger_definitions_are_checked_with_messages_that_say_what_to_fix() {
    let parse = |v: Value| serde_json::from_value::<TriggerInput>(v);
    let ok =
        parse(serde_json::json!({"name": "Invoices", "kind": "webhook", "path": "invoices/in"}))
            .unwrap();
    assert_eq!(check(&ok), Ok(()));
    let err = |v: Value| check(&parse(v).unwrap()).unwrap_err();
    assert!(err(serde_json::json!({"name": " ", "kind": "webhook"})).contains("name"));
    assert!(
        err(serde_json::json!({"name": "a", "kind": "webhook", "path": "../etc"}))
            .contains("path '../etc' is not allowed")
    );
    assert!(
        err(serde_json::json!({"name": "a", "kind": "webhook", "path": "trg_x"}))
            .contains("may not start")
    );
    assert!(
        err(serde_json::json!({"name": "a", "kind": "webhook", "mapping": ".body |"}))
            .starts_with("mapping:")
    );
    assert!(err(serde_json::json!({"name": "a", "kind": "webhook", "response": {"mode": "sync", "timeout_ms": 999999}})).contains("timeout_ms"));
    assert!(err(serde_json::json!({"name": "a", "kind": "webhook", "auth": {"type": "token", "header": "bad header"}})).contains("not a header name"));
    assert!(
        err(serde_json::json!({"name": "a", "kind": "schedule", "when": {"every_ms": 10}}))
            .contains("every_ms")
    );
    assert!(err(serde_json::json!({"name": "a", "kind": "schedule", "when": {"cron": "* * * * *"}, "pause_after_failures": 0})).contains("pause_after_failures"));
    // unknown fields are named, not ignored
    let e = parse(serde_json::json!({"name": "a", "kind": "webhook", "secret": "x"})).unwrap_err();
    assert!(e.to_string().contains("secret"), "{e}");
}

#[test]
fn a_webhook_path_is_its_chosen_path_or_its_id() {
    let t = |path: Option<&str>| Trigger {
        id: crate::domain::ids::TriggerId::from_stored("trg_1"),
        workflow_id: "w".into(),
        name: "n".into(),
        spec: TriggerSpec::Webhook(WebhookSpec {
            path: path.map(String::from),
            ..serde_json::from_value(serde_json::json!({})).unwrap()
        }),
        paused: false,
        paused_reason: None,
        rotating: false,
        created_at: 0,
        created_by: "x".into(),
        updated_at: 0,
    };
    assert_eq!(t(None).hook_path().unwrap(), "/hooks/trg_1");
    assert_eq!(
        t(Some("in/voices")).hook_path().unwrap(),
        "/hooks/in/voices"
    );
}
