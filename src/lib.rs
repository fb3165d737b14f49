//! prolo: outcomes research on prolotherapy and other injection therapies.
//!
//! Data flows one way: records → [`ingest`] → [`validate`] → [`courses`] → [`analysis`]
//! → [`render`] → [`output`].

pub mod analysis;
pub mod cli;
pub mod commands;
pub mod config;
pub mod courses;
pub mod error;
pub mod ingest;
pub mod memory;
pub mod output;
pub mod render;
pub mod schema;
pub mod stats;
pub mod synth;
pub mod validate;
