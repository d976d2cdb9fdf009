import type { Command } from "commander";

/** `dpdoctor check` — placeholder until the command lands; owned by its issue. */
export function register(program: Command): void {
  program
    .command("check")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("dpdoctor check: not implemented yet\n");
      process.exitCode = 2;
    });
}
