//! `virtual-module <quectel-gsm|sim7000|sim5360|a76xx> [baud] [MODULE_PATH=HOST_FILE]...`:
//! runs a virtual module in its own process and prints its serial device
//! path, then serves until killed. Each `MODULE_PATH=HOST_FILE` puts a copy
//! of a host file on the module's file system at boot (`C:/Picture/meter.log=meter.log`),
//! as an attachment a SIM5360 can send. The benchmarks use it so the host's
//! CPU time is measured alone; README's "try it without a modem" runs
//! `send_alert` against it.

use cellmail_sim::{Family, SimOptions, VirtualModule};

const USAGE: &str =
    "usage: virtual-module <quectel-gsm|sim7000|sim5360|a76xx> [baud] [MODULE_PATH=HOST_FILE]...";

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(family) = args.next().as_deref().and_then(Family::parse) else {
        eprintln!("{USAGE}");
        return std::process::ExitCode::from(2);
    };
    let mut baud = None;
    let mut files = vec![("UFS:hil.txt".to_owned(), b"x".to_vec())];
    for arg in args {
        if let Some((module_path, host)) = arg.split_once('=') {
            match std::fs::read(host) {
                Ok(bytes) => files.push((module_path.to_owned(), bytes)),
                Err(e) => {
                    eprintln!("virtual-module: {host}: {e}");
                    return std::process::ExitCode::from(2);
                }
            }
        } else if let Ok(b) = arg.parse() {
            baud = Some(b);
        } else {
            eprintln!(
                "virtual-module: {arg:?} is neither a baud rate nor MODULE_PATH=HOST_FILE\n{USAGE}"
            );
            return std::process::ExitCode::from(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("virtual-module: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match VirtualModule::spawn(
            family,
            SimOptions {
                baud,
                files,
                ..Default::default()
            },
        ) {
            Ok(module) => {
                println!("{}", module.path().display());
                std::future::pending::<()>().await;
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("virtual-module: {e}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
