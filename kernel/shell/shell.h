/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The `pagoda>` teaching console (docs/console.md). `make run` ends
 * kernel_main in shell_run(): a line editor on the serial console feeding a
 * table of commands that call the MMU layer's own APIs.
 *
 * The files split along one line: line.c (the editor), parse.c (tokens,
 * numbers, argument checks, dispatch), complete.c (Tab) and table.c (the
 * commands' names, arguments and help) are pure C with no kernel calls, so
 * tools/host_test.mk and the fuzz target tests/fuzz/fuzz_console.c build
 * them for the host; shell.c (the loop) and the cmd_*.c files (one group
 * of commands each) are the kernel side.
 *
 * Invariants: every buffer is bounded (a line holds SHELL_LINE_MAX - 1
 * bytes, excess input is counted and the line refused once, on Enter);
 * no input byte sequence makes the editor or the parser read or write out
 * of bounds, loop without consuming input, or run a command whose argument
 * count or fixed words do not match its table entry.
 */
#ifndef PAGODA_KERNEL_SHELL_SHELL_H
#define PAGODA_KERNEL_SHELL_SHELL_H

#include "kernel/types.h"

#define SHELL_LINE_MAX 256 /* bytes of a line, its NUL included */
#define SHELL_ARGS_MAX 8   /* words of a line, the command included */
#define SHELL_HISTORY  16  /* lines the editor remembers */
#define SHELL_ERR_MAX  160 /* one error line */

/* ---- The command table (table.c) ------------------------------------------ */

/*
 * One command. argv[0] is the command's name; min_args/max_args count the
 * words after it. words[i] lists the fixed words argument i accepts
 * ('|'-separated, e.g. "rw|r|rx"): the parser refuses any other and Tab
 * completes them; NULL leaves the argument free (a number, a glob).
 * words_fn, where set, supplies them at run time instead (the mutant
 * names). arg_is_command: argument 0 is a command name (help).
 * run returns 0, or non-zero after printing its own one-line error.
 */
struct shell_cmd {
	const char *name;
	const char *usage;
	const char *help;
	unsigned min_args, max_args;
	const char *words[SHELL_ARGS_MAX - 1];
	const char *(*words_fn)(unsigned arg);
	bool arg_is_command;
	int (*run)(unsigned argc, char **argv);
};
extern const struct shell_cmd shell_cmds[];
extern const unsigned shell_cmd_count;

/* The commands' handlers (cmd_*.c in the kernel, stubs on the host). */
int shell_cmd_help(unsigned argc, char **argv);
int shell_cmd_mm(unsigned argc, char **argv);
int shell_cmd_map(unsigned argc, char **argv);
int shell_cmd_unmap(unsigned argc, char **argv);
int shell_cmd_protect(unsigned argc, char **argv);
int shell_cmd_touch(unsigned argc, char **argv);
int shell_cmd_walk(unsigned argc, char **argv);
int shell_cmd_tlb(unsigned argc, char **argv);
int shell_cmd_trace(unsigned argc, char **argv);
int shell_cmd_cpus(unsigned argc, char **argv);
int shell_cmd_test(unsigned argc, char **argv);
int shell_cmd_bench(unsigned argc, char **argv);
int shell_cmd_mutant(unsigned argc, char **argv);
int shell_cmd_mem(unsigned argc, char **argv);
int shell_cmd_poweroff(unsigned argc, char **argv);
int shell_cmd_reset(unsigned argc, char **argv);
/* The names `mutant` accepts, '|'-separated (the TLB layer's tlb.break= words). */
const char *shell_mutant_words(unsigned arg);

/* ---- Parsing (parse.c) ---------------------------------------------------- */

/*
 * Splits `line` in place at spaces and tabs into at most `max` words.
 * Returns the number of words found, which may exceed `max` (then only
 * `max` are stored): the caller reports "too many".
 */
unsigned shell_tokenize(char *line, char **argv, unsigned max);
/* The command named exactly `name`, or NULL. */
const struct shell_cmd *shell_find(const char *name);
/*
 * A number: decimal or 0x-hex, optionally followed by K, M or G (binary
 * units, either case), within [min, max]. false with a one-line error in
 * err ("bad number 'x'", "'x' is out of range (min..max)") otherwise.
 * `what` names the argument in the message ("ADDR").
 */
bool shell_parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out,
		     char *err, size_t err_size);
/* Is `word` one of the '|'-separated `words`? */
bool shell_word_in(const char *word, const char *words);
/* The fixed words of argument `arg` of `cmd` ('|'-separated), or NULL. */
const char *shell_arg_words(const struct shell_cmd *cmd, unsigned arg);

enum shell_status {
	SHELL_OK,    /* the command ran and succeeded */
	SHELL_EMPTY, /* nothing but blanks */
	SHELL_ERROR, /* refused before running (message in err) */
	SHELL_FAILED /* the command ran and printed its own error */
};
/*
 * Tokenizes `line` (modified), finds the command, checks the argument
 * count and fixed words, and runs it. A refusal leaves one line in err:
 * "unknown command 'x' (try help)", "map: expects 3 arguments ...",
 * "map: 'q' is not one of rw|r|rx".
 */
enum shell_status shell_exec(char *line, char *err, size_t err_size);

/* ---- Completion (complete.c) ---------------------------------------------- */

/*
 * Tab at `cur` in line[0..len): completes the word that ends at the cursor
 * (a command name first, then the command's fixed words). Writes to `ext`
 * what to insert (the matches' common continuation, plus a space when the
 * match is unique; may be empty) and, when several words match, their list
 * separated by spaces to `list` (empty otherwise). Returns the number of
 * matches. Both outputs are always terminated, cut to their sizes.
 */
unsigned shell_complete(const char *line, unsigned len, unsigned cur, char *ext, size_t ext_size,
			char *list, size_t list_size);

/* ---- The line editor (line.c) --------------------------------------------- */

typedef void (*line_out_fn)(void *ctx, const char *s, size_t n);
typedef unsigned (*line_complete_fn)(const char *line, unsigned len, unsigned cur, char *ext,
				     size_t ext_size, char *list, size_t list_size);

struct line_ed {
	char buf[SHELL_LINE_MAX];
	unsigned len, cur;
	size_t dropped; /* bytes that did not fit since the line began */
	char hist[SHELL_HISTORY][SHELL_LINE_MAX];
	unsigned hist_count, hist_next; /* entries kept; the slot the next one goes to */
	unsigned hist_pos;	      /* 0: editing a new line; n: showing the n-th newest entry */
	char scratch[SHELL_LINE_MAX]; /* the new line while the history is shown */
	unsigned esc;		      /* escape-sequence state (line.c) */
	char esc_param[8];
	unsigned esc_len;
	bool last_cr; /* the previous byte was '\r': a following '\n' is the same Enter */
	const char *prompt;
	line_out_fn out;
	void *ctx;
	line_complete_fn complete;
};

enum line_event {
	LINE_MORE,    /* keep feeding */
	LINE_DONE,    /* Enter: the line is in buf (NUL-terminated) */
	LINE_TOOLONG, /* Enter on a line that overflowed: ed->dropped bytes were lost */
	LINE_CANCEL   /* Ctrl-C: the line was abandoned */
};

/* Prepares an editor that writes through out(ctx, ...); complete may be NULL. */
void line_init(struct line_ed *ed, const char *prompt, line_out_fn out, void *ctx,
	       line_complete_fn complete);
/* Writes the prompt and starts a new, empty line. */
void line_start(struct line_ed *ed);
/* Feeds one input byte (any value); returns what it completed. */
enum line_event line_feed(struct line_ed *ed, uint8_t c);

/* ---- The kernel side (shell.c) -------------------------------------------- */

/* The console loop on the calling thread (CPU 0's main thread); never returns. */
__noreturn void shell_run(void);
/* The console's current address space (cmd_mm.c), or NULL. */
struct mm;
struct mm *shell_current_mm(void);
/* The console's number for `mm` (mm list), or -1 when it is not one of the console's. */
int shell_mm_index(const struct mm *mm);
/*
 * Makes every CPU let go of the console's address spaces (they stay, with
 * their mappings): a CPU left lazily in one keeps its ASID reserved, which
 * suites that use up the ASID space (asid) cannot account for.
 */
void shell_mms_unload(void);
/* Prints one error line "CMD: message" for a handler. */
void shell_error(const char *cmd, const char *fmt, ...) __printf(2, 3);

#endif
