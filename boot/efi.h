/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The few UEFI definitions Pagoda's EFI stub uses (UEFI specification 2.x:
 * system table, boot services up to ExitBootServices, configuration
 * tables, memory map, loaded-image protocol, text output). Only the
 * members the stub calls are typed; the others are placeholders that keep
 * the offsets right. Arch-neutral: on a 64-bit target every UINTN and
 * pointer is 8 bytes and the calling convention is the platform's own.
 */
#ifndef PAGODA_BOOT_EFI_H
#define PAGODA_BOOT_EFI_H

#include "kernel/types.h"

typedef uint64_t efi_status_t;
typedef void *efi_handle_t;
typedef uint16_t efi_char16_t;

#define EFI_ERROR_BIT	      (1ull << 63)
#define EFI_SUCCESS	      0ull
#define EFI_LOAD_ERROR	      (EFI_ERROR_BIT | 1)
#define EFI_INVALID_PARAMETER (EFI_ERROR_BIT | 2)
#define EFI_BUFFER_TOO_SMALL  (EFI_ERROR_BIT | 5)
#define EFI_PAGE_SIZE	      4096ull

typedef struct {
	uint32_t data1;
	uint16_t data2, data3;
	uint8_t data4[8];
} efi_guid_t;

#define EFI_LOADED_IMAGE_PROTOCOL_GUID                                                             \
	{                                                                                          \
		0x5b1b31a1, 0x9562, 0x11d2,                                                        \
		{                                                                                  \
			0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b                             \
		}                                                                                  \
	}
#define EFI_DTB_TABLE_GUID                                                                         \
	{                                                                                          \
		0xb1b621d5, 0xf19c, 0x41a5,                                                        \
		{                                                                                  \
			0x83, 0x0b, 0xd9, 0x15, 0x2c, 0x69, 0xaa, 0xe0                             \
		}                                                                                  \
	}
/* 8868e871-e4f1-11d3-bc22-0080c73c8881 (as edk2 and GRUB's lsefisystab write it) */
#define EFI_ACPI_20_TABLE_GUID                                                                     \
	{                                                                                          \
		0x8868e871, 0xe4f1, 0x11d3,                                                        \
		{                                                                                  \
			0xbc, 0x22, 0x00, 0x80, 0xc7, 0x3c, 0x88, 0x81                             \
		}                                                                                  \
	}

struct efi_table_header {
	uint64_t signature;
	uint32_t revision, header_size, crc32, reserved;
};

enum efi_memory_type {
	EFI_RESERVED_MEMORY,
	EFI_LOADER_CODE,
	EFI_LOADER_DATA,
	EFI_BOOT_SERVICES_CODE,
	EFI_BOOT_SERVICES_DATA,
	EFI_RUNTIME_SERVICES_CODE,
	EFI_RUNTIME_SERVICES_DATA,
	EFI_CONVENTIONAL_MEMORY,
	EFI_UNUSABLE_MEMORY,
	EFI_ACPI_RECLAIM_MEMORY,
	EFI_ACPI_MEMORY_NVS,
	EFI_MEMORY_MAPPED_IO,
	EFI_MEMORY_MAPPED_IO_PORT_SPACE,
	EFI_PAL_CODE,
	EFI_PERSISTENT_MEMORY,
};

enum efi_allocate_type { EFI_ALLOCATE_ANY_PAGES, EFI_ALLOCATE_MAX_ADDRESS, EFI_ALLOCATE_ADDRESS };

#define EFI_MEMORY_WB 0x8ull /* the range can be mapped write-back cacheable: it is RAM */

/* One entry of the memory map; entries are descriptor_size bytes apart, not sizeof. */
struct efi_memory_descriptor {
	uint32_t type;
	uint32_t pad;
	uint64_t physical_start;
	uint64_t virtual_start;
	uint64_t number_of_pages;
	uint64_t attribute;
};

struct efi_simple_text_output {
	void *reset;
	efi_status_t (*output_string)(struct efi_simple_text_output *self, efi_char16_t *string);
	/* test_string, query_mode, set_mode, ... follow: not used */
};

struct efi_boot_services {
	struct efi_table_header hdr;
	void *raise_tpl, *restore_tpl;
	efi_status_t (*allocate_pages)(enum efi_allocate_type type,
				       enum efi_memory_type memory_type, uint64_t pages,
				       uint64_t *memory);
	void *free_pages;
	efi_status_t (*get_memory_map)(uint64_t *map_size, struct efi_memory_descriptor *map,
				       uint64_t *map_key, uint64_t *descriptor_size,
				       uint32_t *descriptor_version);
	efi_status_t (*allocate_pool)(enum efi_memory_type type, uint64_t size, void **buffer);
	void *free_pool;
	void *create_event, *set_timer, *wait_for_event, *signal_event, *close_event, *check_event;
	void *install_protocol_interface, *reinstall_protocol_interface,
	    *uninstall_protocol_interface;
	efi_status_t (*handle_protocol)(efi_handle_t handle, const efi_guid_t *protocol,
					void **interface);
	void *reserved, *register_protocol_notify, *locate_handle, *locate_device_path,
	    *install_configuration_table;
	void *load_image, *start_image, *exit, *unload_image;
	efi_status_t (*exit_boot_services)(efi_handle_t image, uint64_t map_key);
	/* get_next_monotonic_count, stall, ... follow: not used */
};

struct efi_configuration_table {
	efi_guid_t vendor_guid;
	void *vendor_table;
};

struct efi_system_table {
	struct efi_table_header hdr;
	efi_char16_t *firmware_vendor;
	uint32_t firmware_revision;
	efi_handle_t console_in_handle;
	void *con_in;
	efi_handle_t console_out_handle;
	struct efi_simple_text_output *con_out;
	efi_handle_t standard_error_handle;
	struct efi_simple_text_output *std_err;
	void *runtime_services;
	struct efi_boot_services *boot_services;
	uint64_t number_of_table_entries;
	struct efi_configuration_table *configuration_table;
};

struct efi_loaded_image {
	uint32_t revision;
	efi_handle_t parent_handle;
	struct efi_system_table *system_table;
	efi_handle_t device_handle;
	void *file_path;
	void *reserved;
	uint32_t load_options_size; /* bytes */
	void *load_options;	    /* the command line, UTF-16, from GRUB's `linux` */
	void *image_base;
	uint64_t image_size;
	enum efi_memory_type image_code_type, image_data_type;
	void *unload;
};

#endif
