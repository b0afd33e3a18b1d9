//! The Approval step: who decides, how many, the form, the deadline.

use super::{Canvas, check_note, list, read, update};
use crate::domain::expr;
use crate::domain::graph::{
    ApprovalConfig, Deadline, DeadlineAction, FormField, FormFieldKind, Node, NodeKind,
};
use leptos::prelude::*;

fn edit(canvas: Canvas, id: &str, f: impl FnOnce(&mut ApprovalConfig)) {
    update(canvas, id, |n| {
        if let NodeKind::Approval(a) = &mut n.kind {
            f(a);
        }
    });
}

fn get<T: Default>(
    node: Memo<Option<Node>>,
    f: impl Fn(&ApprovalConfig) -> T + Copy + 'static,
) -> impl Fn() -> T + Copy + 'static {
    read(node, move |n| match &n.kind {
        NodeKind::Approval(a) => f(a),
        _ => T::default(),
    })
}

const FIELD_KINDS: [&str; 5] = ["text", "number", "boolean", "json", "choice"];

fn field_kind_name(k: &FormFieldKind) -> &'static str {
    match k {
        FormFieldKind::Text => "text",
        FormFieldKind::Number => "number",
        FormFieldKind::Boolean => "boolean",
        FormFieldKind::Json => "json",
        FormFieldKind::Choice { .. } => "choice",
    }
}

fn field_kind(name: &str, options: Vec<String>) -> FormFieldKind {
    match name {
        "number" => FormFieldKind::Number,
        "boolean" => FormFieldKind::Boolean,
        "json" => FormFieldKind::Json,
        "choice" => FormFieldKind::Choice { options },
        _ => FormFieldKind::Text,
    }
}

fn action_name(a: &DeadlineAction) -> &'static str {
    match a {
        DeadlineAction::Escalate { .. } => "escalate",
        DeadlineAction::Reject => "reject",
        DeadlineAction::Approve => "approve",
    }
}

pub(super) fn approval_fields(canvas: Canvas, id: &str, node: Memo<Option<Node>>) -> AnyView {
    let Some(NodeKind::Approval(a)) = node.get_untracked().map(|n| n.kind) else {
        return ().into_any();
    };
    let ids = |n: usize| -> Vec<String> { (0..n).map(|_| id.to_string()).collect() };
    let [
        i_title,
        i_instr,
        i_roles,
        i_users,
        i_req,
        i_self,
        i_add,
        i_dl,
    ] = <[String; 8]>::try_from(ids(8)).expect("eight");
    let instructions = get(node, |a| a.instructions.clone());
    let fields = a
        .form
        .iter()
        .enumerate()
        .map(|(i, f)| form_field_row(canvas, id, node, i, f))
        .collect_view();
    let deadline = a.deadline.as_ref().map(|d| {
        let [i_after, i_action, i_role] = <[String; 3]>::try_from(ids(3)).expect("three");
        let escalate = matches!(d.action, DeadlineAction::Escalate { .. });
        view! {
            <label>"Decide within (minutes)"
                <input type="number" min="1" prop:value=get(node, |a| a.deadline.as_ref().map(|d| (d.after_ms / 60_000).to_string()).unwrap_or_default())
                    on:change=move |ev| {
                        let mins: u64 = event_target_value(&ev).parse().unwrap_or(0);
                        edit(canvas, &i_after, |a| if let Some(d) = &mut a.deadline { d.after_ms = mins * 60_000; });
                    } />
            </label>
            <label>"Then"
                <select prop:value=get(node, |a| a.deadline.as_ref().map(|d| action_name(&d.action)).unwrap_or("").to_string())
                    on:change=move |ev| {
                        let action = match event_target_value(&ev).as_str() {
                            "escalate" => DeadlineAction::Escalate { role: "admin".into() },
                            "approve" => DeadlineAction::Approve,
                            _ => DeadlineAction::Reject,
                        };
                        edit(canvas, &i_action, |a| if let Some(d) = &mut a.deadline { d.action = action; });
                    }>
                    <option value="escalate">"escalate to another role"</option>
                    <option value="reject">"reject automatically"</option>
                    <option value="approve">"approve automatically"</option>
                </select>
            </label>
            {escalate.then(|| view! {
                <label>"Escalate to role"
                    <input type="text" prop:value=get(node, |a| match a.deadline.as_ref().map(|d| &d.action) {
                            Some(DeadlineAction::Escalate { role }) => role.clone(),
                            _ => String::new(),
                        })
                        on:change=move |ev| {
                            let role = event_target_value(&ev).trim().to_string();
                            edit(canvas, &i_role, |a| if let Some(d) = &mut a.deadline { d.action = DeadlineAction::Escalate { role }; });
                        } />
                </label>
            })}
        }
    });
    view! {
        <label>"Title"
            <input type="text" prop:value=get(node, |a| a.title.clone())
                on:change=move |ev| { let v = event_target_value(&ev); edit(canvas, &i_title, |a| a.title = v); } />
        </label>
        <label>"Instructions (template)"
            <textarea rows="3" prop:value=instructions
                on:input=move |ev| { let v = event_target_value(&ev); edit(canvas, &i_instr, |a| a.instructions = v); }></textarea>
        </label>
        {move || check_note(expr::check_template(&instructions()))}
        <label>"Roles that may decide (comma-separated)"
            <input type="text" prop:value=get(node, |a| a.approvers.roles.join(", "))
                on:change=move |ev| { let v = list(&event_target_value(&ev)); edit(canvas, &i_roles, |a| a.approvers.roles = v); } />
        </label>
        <label>"People who may decide (user names, comma-separated)"
            <input type="text" prop:value=get(node, |a| a.approvers.users.join(", "))
                on:change=move |ev| { let v = list(&event_target_value(&ev)); edit(canvas, &i_users, |a| a.approvers.users = v); } />
        </label>
        <label>"Approvals required (each by a different person)"
            <input type="number" min="1" prop:value=get(node, |a| a.required_approvals.to_string())
                on:change=move |ev| { let v = event_target_value(&ev).parse().unwrap_or(0); edit(canvas, &i_req, |a| a.required_approvals = v); } />
        </label>
        <label class="check">
            <input type="checkbox" prop:checked=get(node, |a| a.allow_self_approval)
                on:change=move |ev| { let v = event_target_checked(&ev); edit(canvas, &i_self, |a| a.allow_self_approval = v); } />
            "The person who started the run may approve it"
        </label>
        <fieldset>
            <legend>"Form"</legend>
            {fields}
            <button on:click=move |_| edit(canvas, &i_add, |a| {
                let name = (a.form.len() + 1..).map(|i| format!("field{i}")).find(|n| a.form.iter().all(|f| f.name != *n)).expect("free");
                a.form.push(FormField { label: name.clone(), name, kind: FormFieldKind::Text, required: false });
            })>"Add field"</button>
        </fieldset>
        <fieldset>
            <legend>"Deadline"</legend>
            <label class="check">
                <input type="checkbox" prop:checked=get(node, |a| a.deadline.is_some())
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(canvas, &i_dl, |a| a.deadline = on.then_some(Deadline { after_ms: 24 * 3_600_000, action: DeadlineAction::Reject }));
                    } />
                "Act when nobody decides in time"
            </label>
            {deadline}
        </fieldset>
    }
    .into_any()
}

fn form_field_row(
    canvas: Canvas,
    id: &str,
    node: Memo<Option<Node>>,
    i: usize,
    f: &FormField,
) -> impl IntoView {
    let at = move |g: fn(&FormField) -> String| {
        get(node, move |a| a.form.get(i).map(g).unwrap_or_default())
    };
    let ids: [String; 6] = std::array::from_fn(|_| id.to_string());
    let [i_name, i_label, i_kind, i_opts, i_req, i_rm] = ids;
    let choice = matches!(f.kind, FormFieldKind::Choice { .. });
    view! {
        <div class="form-field">
            <label>"Name"
                <input type="text" prop:value=at(|f| f.name.clone())
                    on:change=move |ev| { let v = event_target_value(&ev); edit(canvas, &i_name, |a| a.form[i].name = v); } />
            </label>
            <label>"Label"
                <input type="text" prop:value=at(|f| f.label.clone())
                    on:change=move |ev| { let v = event_target_value(&ev); edit(canvas, &i_label, |a| a.form[i].label = v); } />
            </label>
            <label>"Type"
                <select prop:value=at(|f| field_kind_name(&f.kind).to_string())
                    on:change=move |ev| { let v = event_target_value(&ev); edit(canvas, &i_kind, |a| a.form[i].kind = field_kind(&v, vec![])); }>
                    {FIELD_KINDS.iter().map(|k| view! { <option value=*k>{*k}</option> }).collect_view()}
                </select>
            </label>
            {choice.then(|| view! {
                <label>"Options (comma-separated)"
                    <input type="text" prop:value=at(|f| match &f.kind { FormFieldKind::Choice { options } => options.join(", "), _ => String::new() })
                        on:change=move |ev| { let v = list(&event_target_value(&ev)); edit(canvas, &i_opts, |a| a.form[i].kind = FormFieldKind::Choice { options: v }); } />
                </label>
            })}
            <label class="check">
                <input type="checkbox" prop:checked=get(node, move |a| a.form.get(i).is_some_and(|f| f.required))
                    on:change=move |ev| { let v = event_target_checked(&ev); edit(canvas, &i_req, |a| a.form[i].required = v); } />
                "Required"
            </label>
            <button class="link danger" on:click=move |_| edit(canvas, &i_rm, |a| { a.form.remove(i); })>"Remove field"</button>
        </div>
    }
}
