/** Paging of the store port's list methods. */

export interface Page {
  /** 1-based. */
  page: number;
  perPage: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
}
