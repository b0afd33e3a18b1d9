use super::*;

/// Every (state, event) pair of `machine`, against the table spelled out
/// here: a change to a machine must change its table in this test too.
fn check_table<E: Machine + std::fmt::Debug + PartialEq>(
    events: &[E],
    allowed: &[(E::Status, E, E::Status)],
) {
    let mut checked = 0;
    for from in E::STATES {
        for event in events {
            let expected = allowed
                .iter()
                .find(|(f, e, _)| f == from && e == event)
                .map(|(_, _, to)| *to);
            assert!(
                E::apply(*from, *event) == expected,
                "{from} + {event:?}: table and machine disagree"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, E::STATES.len() * events.len());
}

#[test]
fn every_step_state_event_pair() {
    use StepEvent as E;
    use StepStatus as S;
    check_table(
        &StepEvent::ALL,
        &[
            (S::Pending, E::Activate, S::Ready),
            (S::Pending, E::Skip, S::Skipped),
            (S::Pending, E::Cancel, S::Cancelled),
            (S::Ready, E::Claim, S::Running),
            (S::Ready, E::Cancel, S::Cancelled),
            (S::Running, E::Succeed, S::Succeeded),
            (S::Running, E::FailRetry, S::Ready),
            (S::Running, E::Fail, S::Failed),
            (S::Running, E::Park, S::Waiting),
            (S::Running, E::LeaseExpired, S::Ready),
            (S::Running, E::Cancel, S::Cancelled),
            (S::Waiting, E::Claim, S::Running),
            (S::Waiting, E::Cancel, S::Cancelled),
            (S::Failed, E::Retry, S::Ready),
            (S::Cancelled, E::Resume, S::Pending),
            (S::Succeeded, E::Repeat, S::Pending),
            (S::Failed, E::Repeat, S::Pending),
            (S::Skipped, E::Repeat, S::Pending),
        ],
    );
}

#[test]
fn every_run_state_event_pair() {
    use RunEvent as E;
    use RunStatus as R;
    check_table(
        &RunEvent::ALL,
        &[
            (R::Running, E::Succeed, R::Succeeded),
            (R::Running, E::Fail, R::Failed),
            (R::Running, E::Cancel, R::Cancelled),
            (R::Failed, E::Reopen, R::Running),
        ],
    );
}

#[test]
fn every_item_state_event_pair() {
    use ItemEvent as E;
    use ItemStatus as I;
    check_table(
        &ItemEvent::ALL,
        &[
            (I::Pending, E::Approve, I::Approved),
            (I::Pending, E::Reject, I::Rejected),
            (I::Pending, E::Cancel, I::Cancelled),
        ],
    );
}

#[test]
fn each_event_leads_to_one_state() {
    fn one<E: Machine + std::fmt::Debug>(events: &[E]) {
        for e in events {
            let targets: Vec<_> = E::STATES.iter().filter_map(|s| E::apply(*s, *e)).collect();
            assert!(!targets.is_empty(), "{e:?} applies nowhere");
            assert!(
                targets.iter().all(|t| *t == targets[0]),
                "{e:?} leads to several states"
            );
        }
    }
    one(&StepEvent::ALL);
    one(&RunEvent::ALL);
    one(&ItemEvent::ALL);
}

#[test]
fn decided_and_ended_things_stay_so() {
    // a final step moves only by a person's retry (or resume after one),
    // or when its loop goes round again
    for s in StepStatus::ALL.into_iter().filter(|s| s.is_final()) {
        for e in StepEvent::ALL {
            if step_transition(s, e).is_some() {
                assert!(
                    matches!(e, StepEvent::Retry | StepEvent::Resume | StepEvent::Repeat),
                    "{s} {e:?}"
                );
            }
        }
    }
    // a decision never changes
    for i in [
        ItemStatus::Approved,
        ItemStatus::Rejected,
        ItemStatus::Cancelled,
    ] {
        for e in ItemEvent::ALL {
            assert_eq!(item_transition(i, e), None);
        }
    }
    // only a failed run reopens; succeeded and cancelled runs never do
    for r in [RunStatus::Succeeded, RunStatus::Cancelled] {
        for e in RunEvent::ALL {
            assert_eq!(run_transition(r, e), None);
        }
    }
}

#[test]
fn guards_are_the_sql_of_the_table() {
    assert_eq!(
        StepEvent::Cancel.guard("status"),
        "status IN ('pending', 'ready', 'running', 'waiting')"
    );
    assert_eq!(
        StepEvent::Claim.guard("s.status"),
        "s.status IN ('ready', 'waiting')"
    );
    assert_eq!(StepEvent::Claim.set("status"), "status = 'running'");
    assert_eq!(RunEvent::Reopen.guard("status"), "status IN ('failed')");
    assert_eq!(ItemEvent::Cancel.set("status"), "status = 'cancelled'");
    assert_eq!(run_end_event(RunStatus::Running), None);
    for r in RunStatus::ALL.into_iter().filter(|r| r.is_final()) {
        assert_eq!(run_end_event(r).map(|e| e.target()), Some(r));
    }
}
