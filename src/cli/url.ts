import type { Command } from "commander";

/** `dpdoctor url` — placeholder until the command lands; owned by its issue. */
export function register(program: Command): void {
  program
    .command("url")
    .description("(not implemented yet)")
    .action(() => {
      process.stderr.write("dpdoctor url: not implemented yet\n");
      process.exitCode = 2;
    });
}
