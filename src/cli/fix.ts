import type { Command } from "commander";

/** `dpdoctor fix` — placeholder until the command lands; owned by its issue. */
export function register(program: Command): void {
  program
    .command("fix")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("dpdoctor fix: not implemented yet\n");
      process.exitCode = 2;
    });
}
