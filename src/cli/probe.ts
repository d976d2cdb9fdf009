import type { Command } from "commander";

/** `dpdoctor probe` — placeholder until the command lands; owned by its issue. */
export function register(program: Command): void {
  program
    .command("probe")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("dpdoctor probe: not implemented yet\n");
      process.exitCode = 2;
    });
}
