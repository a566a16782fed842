// The analysis pages look for the region's years with data up to last year.
export const LAST_YEAR = new Date().getFullYear() - 1;
