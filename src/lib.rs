//! carepath: a regional care-pathway record service. See README.md for the tour.

pub mod api;
pub mod config;
pub mod db;
pub mod error;
pub mod openapi;
pub mod request_id;
pub mod startup;
pub mod telemetry;
pub mod access;
pub mod auth;
pub mod crypto;
