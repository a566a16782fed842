// Sorting and paging of a whole list on the page's side, for Element Plus tables: el-table sorts only the rows it
// is given, so a table with a pager asks for custom sorting (sortable="custom") and shows `shown`, one page of
// the list sorted as a whole.
import {computed, reactive, ref, watch} from "vue";

// nulls last whichever the direction; numbers and ISO times compare as such, the rest as text
function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined || a === "") return 1;
  if (b === null || b === undefined || b === "") return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, {numeric: true});
}

/** A paged, sortable view of `rows` (a ref of an array): {shown, page, size, total, sort, onSort}. */
export function pagedTable(rows, {size = 20, sort = null} = {}) {
  const order = ref(sort);
  const page = ref(1);
  const sorted = computed(() => {
    const list = [...(rows.value || [])];
    const by = order.value;
    if (!by || !by.order) return list;
    const sign = by.order === "ascending" ? 1 : -1;
    return list.sort((a, b) => {
      const [x, y] = [a[by.prop], b[by.prop]];
      const nullish = (v) => v === null || v === undefined || v === "";
      // nulls stay last in both directions
      if (nullish(x) || nullish(y)) return compare(x, y);
      return sign * compare(x, y);
    });
  });
  // a shorter list (new filter) would leave the pager past its end
  watch(() => sorted.value.length, (n) => { if ((page.value - 1) * size >= n) page.value = 1; });
  return reactive({
    page,
    size,
    sort,
    total: computed(() => sorted.value.length),
    shown: computed(() => sorted.value.slice((page.value - 1) * size, page.value * size)),
    onSort({prop, order: direction}) { order.value = {prop, order: direction}; page.value = 1; },
  });
}
