//! Autocomplete in expression and template fields: typing `.steps.` (or
//! `steps.` in a template, or `.input.`) offers the step ids and fields the
//! selected step can read (the data panel's paths); arrows choose, Enter
//! or Tab takes one, Escape closes.

use leptos::prelude::*;

/// At most this many suggestions are shown.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const SHOWN: usize = 8;

/// The path being typed at the end of `before` (the text before the
/// caret): its start (a byte offset) and the paths it may become, from
/// `paths` (jq form, `.steps.a.output.b`). In a `template` the paths are
/// offered without the leading dot.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn suggest(before: &str, paths: &[String], template: bool) -> Option<(usize, Vec<String>)> {
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']' | '"'))
        .last()
        .map(|(i, _)| i)?;
    let token = &before[start..];
    let bare = token.trim_start_matches('.');
    if !(bare.starts_with("steps") || bare.starts_with("input")) || bare.len() < 5 {
        return None;
    }
    let mut hits: Vec<String> = Vec::new();
    for p in paths {
        let shown = if template {
            p.trim_start_matches('.')
        } else {
            p.as_str()
        };
        let typed = if template { bare } else { token };
        if shown.len() > typed.len() && shown.starts_with(typed) && !hits.iter().any(|h| h == shown)
        {
            hits.push(shown.to_string());
        }
    }
    // the nearest completions first: fewer segments, then by name
    hits.sort_by_key(|h| (h.matches('.').count(), h.clone()));
    hits.truncate(SHOWN);
    (!hits.is_empty()).then_some((start, hits))
}

/// The field being typed in, what it may complete to, and the choice.
#[derive(Clone, Debug, Default, PartialEq)]
struct Open {
    hits: Vec<String>,
    active: usize,
    /// Where the list goes (the field's bottom left, in the viewport).
    x: f64,
    y: f64,
}

#[component]
pub fn Suggestions(paths: Memo<Vec<String>>) -> impl IntoView {
    let open = RwSignal::new(None::<Open>);
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        use leptos::web_sys::HtmlInputElement as Input;
        use leptos::web_sys::HtmlTextAreaElement as Area;
        /// A code field's value, caret (in UTF-16 units) and kind.
        fn field(
            t: Option<leptos::web_sys::EventTarget>,
        ) -> Option<(leptos::web_sys::HtmlElement, String, u32, bool)> {
            let el = t?.dyn_into::<leptos::web_sys::HtmlElement>().ok()?;
            let code = el.get_attribute("data-code")?;
            let (v, caret) = if let Some(a) = el.dyn_ref::<Area>() {
                (a.value(), a.selection_start().ok().flatten()?)
            } else {
                let i = el.dyn_ref::<Input>()?;
                (i.value(), i.selection_start().ok().flatten()?)
            };
            Some((el, v, caret, code == "template"))
        }
        fn before_caret(v: &str, caret: u32) -> String {
            let units: Vec<u16> = v.encode_utf16().take(caret as usize).collect();
            String::from_utf16_lossy(&units)
        }
        let on_input = window_event_listener(leptos::ev::input, move |ev| {
            let Some((el, v, caret, template)) = field(ev.target()) else {
                return;
            };
            let before = before_caret(&v, caret);
            let found = paths.with_untracked(|p| suggest(&before, p, template));
            open.set(found.map(|(_, hits)| {
                let r = el.get_bounding_client_rect();
                Open {
                    hits,
                    active: 0,
                    x: r.left(),
                    y: r.bottom(),
                }
            }));
        });
        let on_key = window_event_listener(leptos::ev::keydown, move |ev| {
            let Some(o) = open.get_untracked() else {
                return;
            };
            let n = o.hits.len();
            match ev.key().as_str() {
                "ArrowDown" => {
                    ev.prevent_default();
                    open.update(|o| {
                        if let Some(o) = o {
                            o.active = (o.active + 1) % n
                        }
                    });
                }
                "ArrowUp" => {
                    ev.prevent_default();
                    open.update(|o| {
                        if let Some(o) = o {
                            o.active = (o.active + n - 1) % n
                        }
                    });
                }
                "Enter" | "Tab" => {
                    let Some((el, v, caret, template)) = field(ev.target()) else {
                        open.set(None);
                        return;
                    };
                    ev.prevent_default();
                    let before = before_caret(&v, caret);
                    let start = suggest(&before, &paths.get_untracked(), template).map(|(s, _)| s);
                    if let (Some(start), Some(choice)) = (start, o.hits.get(o.active)) {
                        // replace the typed part, keep what follows the caret
                        let after: String = String::from_utf16_lossy(
                            &v.encode_utf16().skip(caret as usize).collect::<Vec<u16>>(),
                        );
                        let new = format!("{}{choice}{after}", &before[..start]);
                        let pos = format!("{}{choice}", &before[..start])
                            .encode_utf16()
                            .count() as u32;
                        if let Some(a) = el.dyn_ref::<Area>() {
                            a.set_value(&new);
                            let _ = a.set_selection_range(pos, pos);
                        } else if let Some(i) = el.dyn_ref::<Input>() {
                            i.set_value(&new);
                            let _ = i.set_selection_range(pos, pos);
                        }
                        let init = leptos::web_sys::EventInit::new();
                        init.set_bubbles(true);
                        if let Ok(e) =
                            leptos::web_sys::Event::new_with_event_init_dict("input", &init)
                        {
                            let _ = el.dispatch_event(&e);
                        }
                        open.set(None);
                    }
                }
                "Escape" => open.set(None),
                _ => {}
            }
        });
        let on_blur = window_event_listener(leptos::ev::focusout, move |_| open.set(None));
        on_cleanup(move || {
            on_input.remove();
            on_key.remove();
            on_blur.remove();
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = paths;
    move || {
        open.get().map(|o| {
            view! {
                <ul class="suggestions" role="listbox" aria-label="Suggestions"
                    style=format!("left: {}px; top: {}px", o.x, o.y)>
                    {o.hits.iter().enumerate().map(|(i, h)| view! {
                        <li role="option" aria-selected=(i == o.active).to_string()><code>{h.clone()}</code></li>
                    }).collect_view()}
                </ul>
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> Vec<String> {
        [
            ".input.amount",
            ".input.vendor",
            ".steps.extract.output",
            ".steps.extract.output.amount",
            ".steps.extract.output.vendor",
            ".steps.route.output",
            ".steps.route.output.taken",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn typing_a_path_offers_the_step_ids_then_their_fields() {
        let (at, hits) = suggest(".steps.", &paths(), false).unwrap();
        assert_eq!(at, 0);
        assert_eq!(
            hits,
            [
                ".steps.extract.output",
                ".steps.route.output",
                ".steps.extract.output.amount",
                ".steps.extract.output.vendor",
                ".steps.route.output.taken",
            ],
            "fewest segments first, then by name"
        );
        let (at, hits) = suggest("{a: .steps.ex", &paths(), false).unwrap();
        assert_eq!(at, 4);
        assert_eq!(hits[0], ".steps.extract.output");
        let (_, hits) = suggest(".steps.extract.output.a", &paths(), false).unwrap();
        assert_eq!(hits, [".steps.extract.output.amount"]);
        assert_eq!(
            suggest(".steps.extract.output.amount", &paths(), false),
            None,
            "nothing longer"
        );
        assert_eq!(suggest("length > 3", &paths(), false), None);
    }

    #[test]
    fn templates_get_paths_without_the_leading_dot() {
        let (at, hits) = suggest("Amount: {{ steps.extract.output.v", &paths(), true).unwrap();
        assert_eq!(at, 11);
        assert_eq!(hits, ["steps.extract.output.vendor"]);
        let (_, hits) = suggest("{{ input.", &paths(), true).unwrap();
        assert_eq!(hits, ["input.amount", "input.vendor"]);
    }
}
