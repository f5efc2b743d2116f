//! `virtual-module <quectel-gsm|sim7000|sim5360> [baud]`: runs a virtual module
//! in its own process and prints its serial device path, then serves until
//! killed. The benchmarks use it so the host's CPU time is measured alone.

use cellmail_sim::{Family, SimOptions, VirtualModule};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(family) = args.next().as_deref().and_then(Family::parse) else {
        eprintln!("usage: virtual-module <quectel-gsm|sim7000|sim5360> [baud]");
        return std::process::ExitCode::from(2);
    };
    let baud = args.next().and_then(|b| b.parse().ok());
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
        let files = vec![("UFS:hil.txt".to_owned(), b"x".to_vec())];
        match VirtualModule::spawn(family, SimOptions { baud, files }) {
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
