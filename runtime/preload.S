/* preload.S — registers hp_takeover_entry as an init_array constructor of libhotpath.so.
 * Kept apart from entry.S so unit tests can link the runtime without taking themselves over. */
        .section .init_array, "aw"
        .align 8
        .quad hp_takeover_entry
        .section .note.GNU-stack, "", @progbits
