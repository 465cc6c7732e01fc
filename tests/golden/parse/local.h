/* local.h: a header the struct_decl golden includes with "..." */
#define LOCAL_H_VALUE 1
