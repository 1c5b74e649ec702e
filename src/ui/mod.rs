//! The Yew playground (wasm32 only).
