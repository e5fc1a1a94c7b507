//! The one integration-test binary: every test that runs trailwatch against moto's AWS server
//! (started by [`support`] on a free loopback port, reached through the real AWS SDK clients), and
//! the `trailwatch` binary driven offline. One binary links the AWS SDK set once.
//!
//! Modules by area: [`harness`] checks the emulator itself; [`collect`] what a scan reads;
//! [`verdicts`] the status and sentence of every control over account states; [`cis_versions`]
//! benchmark versions and CIS 4.16 (Security Hub enabled); [`scan_cli`] and
//! [`offline_cli`] the command line; [`lambda_handler`] the Lambda's logic called directly;
//! [`securityhub`] publishing edge cases (GetFindings paging, field limits, what an update
//! sends); [`faults`] runs through the fault proxy (throttling, 503s, resets, slow answers);
//! [`lambda_runtime`] the real Lambda runtime through cargo-lambda; [`recheck`] the event-driven
//! re-check of changed chains; [`remediate`] applies the generated fix with the real AWS CLI and
//! rescans.

mod cis_versions;
mod collect;
mod faults;
mod harness;
mod html_report;
mod lambda_handler;
mod lambda_organization;
mod lambda_runtime;
mod offline_cli;
mod organization;
mod recheck;
mod remediate;
mod report_formats;
mod scan_cli;
mod securityhub;
mod support;
mod verdicts;
