//! LLM steps, the pure part: the conversation a step sends, reading what
//! an OpenAI-compatible chat-completions server answers, measuring the
//! confidence (`confidence`), and deciding the step's output and port.
//! The server does the IO (`server::engine::runners::llm`).

pub mod answer;
pub mod confidence;
pub mod connection;
pub mod wire;

pub use answer::{Answer, Concluded, Need, conclude};
pub use confidence::{Method, TokenLogprob};
pub use connection::ModelConnection;
pub use wire::{Completion, Message, ModelCall};
