import type { Command } from "commander";

/** `dpdoctor logs` — placeholder until the command lands; owned by its issue. */
export function register(program: Command): void {
  program
    .command("logs")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("dpdoctor logs: not implemented yet\n");
      process.exitCode = 2;
    });
}
