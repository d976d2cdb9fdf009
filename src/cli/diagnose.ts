import type { Command } from "commander";

/** `dpdoctor diagnose` — placeholder until the command lands; owned by its issue. */
export function register(program: Command): void {
  program
    .command("diagnose")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("dpdoctor diagnose: not implemented yet\n");
      process.exitCode = 2;
    });
}
