import type { Command } from "commander";

/** `dpdoctor lab` — placeholder until the command lands; owned by its issue. */
export function register(program: Command): void {
  program
    .command("lab")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("dpdoctor lab: not implemented yet\n");
      process.exitCode = 2;
    });
}
