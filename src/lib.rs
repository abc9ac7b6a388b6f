//! carepath: a regional care-pathway record service. See README.md for the tour.

pub mod access;
pub mod api;
pub mod audit;
#[deny(missing_docs)]
pub mod auth;
pub mod backup;
pub mod calendar;
pub mod careplan;
pub mod clock;
pub mod committer;
pub mod config;
pub mod console;
pub mod context;
#[deny(missing_docs)]
pub mod crypto;
pub mod db;
pub mod demo;
#[deny(missing_docs)]
pub mod domain;
pub mod edge;
pub mod error;
pub mod fhir;
pub mod gate;
pub mod ids;
pub mod limits;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod rotation;
pub mod schemas;
pub mod startup;
pub mod state;
pub mod telemetry;
#[deny(missing_docs)]
pub mod webhooks;
pub mod words;
