//! The run form's "Inject faults" section: a chaos run's plan (a seed and
//! one rule, for every step or one), as JSON for the start request.

use crate::domain::chaos::{ChaosPlan, FaultRule};
use leptos::prelude::*;

/// The plan the fields describe, `None` while "Inject faults" is off.
pub fn plan_json(
    on: bool,
    seed: &str,
    step: &str,
    pcts: [&str; 4],
    low: &str,
    latency: &str,
) -> Option<String> {
    if !on {
        return None;
    }
    let pct = |s: &str| s.trim().parse::<u32>().unwrap_or(0);
    let plan = ChaosPlan {
        seed: seed.trim().parse().unwrap_or(0),
        faults: vec![FaultRule {
            step: (!step.is_empty()).then(|| step.to_string()),
            transient_pct: pct(pcts[0]),
            business_pct: pct(pcts[1]),
            death_pct: pct(pcts[2]),
            low_confidence_pct: pct(pcts[3]),
            low_confidence: low.trim().parse().ok(),
            latency_ms: latency.trim().parse().unwrap_or(0),
        }],
    };
    serde_json::to_string(&plan).ok()
}

/// The section; `out` holds the plan's JSON while faults are on.
#[component]
pub fn ChaosFields(
    /// (id, name) of the steps that take faults.
    steps: Signal<Vec<(String, String)>>,
    out: RwSignal<Option<String>>,
) -> impl IntoView {
    let on = RwSignal::new(false);
    let seed = RwSignal::new("1".to_string());
    let step = RwSignal::new(String::new());
    let transient = RwSignal::new("30".to_string());
    let business = RwSignal::new("0".to_string());
    let death = RwSignal::new("0".to_string());
    let lowc = RwSignal::new("0".to_string());
    let low = RwSignal::new("0.3".to_string());
    let latency = RwSignal::new("0".to_string());
    Effect::new(move |_| {
        out.set(plan_json(
            on.get(),
            &seed.get(),
            &step.get(),
            [&transient.get(), &business.get(), &death.get(), &lowc.get()],
            &low.get(),
            &latency.get(),
        ));
    });
    let num = move |label: &'static str, sig: RwSignal<String>, hint: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type="number" min="0" title=hint prop:value=move || sig.get()
                    on:input=move |ev| sig.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <details class="chaos" data-testid="chaos">
            <summary>"Inject faults (chaos run)"</summary>
            <p class="muted small">"Faults are decided by the seed: the same seed gives the same faults. A chaos run is marked as one and left out of monitoring."</p>
            <label class="check">
                <input type="checkbox" prop:checked=move || on.get()
                    on:change=move |ev| on.set(event_target_checked(&ev)) />
                " Inject faults"
            </label>
            <div class="chaos-fields" hidden=move || !on.get()>
                {num("Seed", seed, "The same seed gives the same faults")}
                <label class="field">
                    <span>"Steps"</span>
                    <select on:change=move |ev| step.set(event_target_value(&ev))>
                        <option value="">"Every step"</option>
                        {move || steps.get().into_iter().map(|(id, name)| view! {
                            <option value=id.clone() selected=step.get() == id>{name}</option>
                        }).collect_view()}
                    </select>
                </label>
                {num("Transient failures %", transient, "Retried by the step's transient policy")}
                {num("Business errors %", business, "Take the error edge when there is one")}
                {num("Process deaths %", death, "The attempt is lost; recovery runs it again after its lease")}
                {num("Low confidence %", lowc, "The step reports the low confidence below")}
                <label class="field">
                    <span>"Low confidence"</span>
                    <input type="number" min="0" max="1" step="0.05" prop:value=move || low.get()
                        on:input=move |ev| low.set(event_target_value(&ev)) />
                </label>
                {num("Latency up to (ms)", latency, "Each attempt first waits up to this long")}
            </div>
        </details>
    }
}
