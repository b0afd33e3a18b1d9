//! The For each frames drawn behind the steps: a box around each For each
//! card and its body, titled with the step's name.

use super::frames::{FRAME_HEAD, frames};
use super::state::Canvas;
use leptos::prelude::*;

pub(super) fn frames_layer(canvas: Canvas) -> impl IntoView {
    let boxes = Memo::new(move |_| canvas.with_shown(frames));
    view! {
        <g class="frames" aria-hidden="true">
            <For each=move || boxes.get() key=|f| format!("{}:{}:{}:{}:{}", f.id, f.x, f.y, f.w, f.h) let(f)>
                <g class="frame" data-frame=f.id.clone()>
                    <rect x=f.x y=f.y width=f.w height=f.h rx="12" />
                    <text x=f.x + 12.0 y=f.y + FRAME_HEAD - 6.0 class="frame-title">
                        {if canvas.read_only() {
                            format!("For each: {} (its body)", f.name)
                        } else {
                            format!("For each: {} (drop steps here for its body)", f.name)
                        }}
                    </text>
                </g>
            </For>
        </g>
    }
}
